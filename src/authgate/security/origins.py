"""URL origins for the server's checks: the one implementation is in `authgate.client._origins`,
which services import without the server, so both sides compare origins the same way."""

from authgate.client._origins import DEFAULT_PORTS, origin_of, origins_of

__all__ = ["DEFAULT_PORTS", "origin_of", "origins_of"]
