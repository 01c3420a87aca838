"""SQLAlchemy models, one module per area. The migrations in `migrations/versions` are the
source of truth for the schema; these mirror them, and a test checks that the two agree.
Every model module is imported here so that `Base.metadata` knows all tables."""

from authgate.storage.models.base import Base, UTCDateTime, new_id, utcnow
from authgate.storage.models.identities import LinkedIdentity
from authgate.storage.models.journal import AuditChainHead, AuditEntry, EventRecord
from authgate.storage.models.keys import SigningKey
from authgate.storage.models.mfa import RecoveryCode, TotpCredential
from authgate.storage.models.oauth2 import OAuthClient, OAuthConsent, OAuthGrant, OAuthRetiredToken
from authgate.storage.models.one_time import CodeFactor, OneTimeSecret
from authgate.storage.models.outbox import OutboxMessage
from authgate.storage.models.passkeys import Passkey
from authgate.storage.models.sessions import RetiredRefreshToken, Session
from authgate.storage.models.users import Role, User
from authgate.storage.models.webhooks import Webhook

__all__ = [
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "CodeFactor",
    "EventRecord",
    "LinkedIdentity",
    "OAuthClient",
    "OAuthConsent",
    "OAuthGrant",
    "OAuthRetiredToken",
    "OneTimeSecret",
    "OutboxMessage",
    "Passkey",
    "RecoveryCode",
    "RetiredRefreshToken",
    "Role",
    "Session",
    "SigningKey",
    "TotpCredential",
    "UTCDateTime",
    "User",
    "Webhook",
    "new_id",
    "utcnow",
]
