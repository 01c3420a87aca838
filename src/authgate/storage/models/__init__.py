"""SQLAlchemy models, one module per area. The migrations in `migrations/versions` are the
source of truth for the schema; these mirror them, and a test checks that the two agree.
Every model module is imported here so that `Base.metadata` knows all tables."""

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow
from authgate.storage.models.sessions import Session
from authgate.storage.models.users import User

__all__ = ["Base", "Session", "UTCDateTime", "User", "new_id", "utcnow"]
