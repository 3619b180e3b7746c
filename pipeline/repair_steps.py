"""The names of the repair steps, in the order they run.

Declared apart from both users, the repair registry (`pipeline.repair`, one step per name) and the
documents table (`pipeline.schema`, a `repair_<name>` column per name), so that a worker can
count repairs without importing pyarrow for the schemas.
"""
from __future__ import annotations

REPAIR_STEPS = ("newlines", "mojibake", "ligatures", "hyphenation", "spacing")
