"""Password hashes of every scheme authgate stores or imports, one module per family behind one
`Scheme` Protocol (`base.py`); the configured scheme for new hashes (`policy.py`); the import
formats that map other systems' hashes onto the schemes (`formats.py`). Pure functions, no I/O:
`security/passwords.py` runs them in the hashing pool."""

from authgate.security.hashing.base import Refused, Scheme
from authgate.security.hashing.policy import CONFIGURABLE, HashPolicy, StoredHash
from authgate.security.hashing.registry import SCHEMES, verify

__all__ = ["CONFIGURABLE", "SCHEMES", "HashPolicy", "Refused", "Scheme", "StoredHash", "verify"]
