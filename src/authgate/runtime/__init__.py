"""The composition root: builds every long-lived part from settings and hands each use case
the parts it uses. Nothing below `http/` imports it (tests/test_layers.py)."""

from authgate.runtime.root import Runtime

__all__ = ["Runtime"]
