"""Prefect flows: a second door into the same library as the `minutes` CLI.

Flows only orchestrate (list, run, log, report); every rule about documents lives in
`pipeline/`. The telemetry switches are set here, before `prefect` is imported by any flow
module, because Prefect reads them at import and otherwise tries the internet and logs errors
on machines without it. Values already in the environment win.
"""
import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
