"""SQLAlchemy models, one module per area. The migrations in `migrations/versions` are the
source of truth for the schema; these mirror them, and a test checks that the two agree.
Every model module is imported here so that `Base.metadata` knows all tables."""

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow
from authgate.storage.models.codes import LinkToken, OneTimeCode, OtpFactor
from authgate.storage.models.mfa import MfaChallenge, RecoveryCode, TotpCredential
from authgate.storage.models.outbox import OutboxMessage
from authgate.storage.models.sessions import Session
from authgate.storage.models.users import User

__all__ = [
    "Base",
    "LinkToken",
    "MfaChallenge",
    "OneTimeCode",
    "OtpFactor",
    "OutboxMessage",
    "RecoveryCode",
    "Session",
    "TotpCredential",
    "UTCDateTime",
    "User",
    "new_id",
    "utcnow",
]
