"""The composition root: `root.Runtime` builds every long-lived part from settings and hands
each use case the parts it uses. Nothing below `http/` imports it (tests/test_layers.py).

This file imports nothing: `cli.py` reads `runtime.outages` and `runtime.key_ring` before a
worker has set up its metrics directory, which must come before prometheus_client loads."""
