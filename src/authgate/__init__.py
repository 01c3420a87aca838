"""authgate: a self-hosted authentication service, and a library to check its tokens."""

__version__ = "0.1.0"
