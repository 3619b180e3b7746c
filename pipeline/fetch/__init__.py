"""`minutes fetch`: the minutes of the bodies a researcher follows, from where municipalities publish them.

The sources file (`sourcefile`) says what to follow; one connector per publishing system
(`dynasty`, `cloudnc`, `tweb`, `ahjo`, behind `base.Connector`) lists meetings and their
documents; `client.PoliteClient` makes every request (robots.txt, rate and concurrency per host,
conditional requests, retries, size and redirect limits); `run.run_fetch` downloads what is new
or changed and logs every request in the `fetches` table; `feeds.write_feeds` announces the new
decisions. Nothing here imports `flows`.
"""
