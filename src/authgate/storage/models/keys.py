"""Keys that other services meet: the asymmetric keys that sign access tokens, and the
credentials with which a service asks about a token (introspection).

A signing key's private part is sealed at rest (AES-GCM, bound to its `kid`); its public
part is kept as the JWK that `/.well-known/jwks.json` publishes. A key signs while it is the
newest one not retired; once retired it still verifies, and is still published, until
`expires_at` (the grace period), and is then deleted.

A service credential's secret is stored only as its SHA-256 digest: it is 256 random bits,
so a slow hash would add nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from authgate.storage.models.base import Base, UTCDateTime, utcnow


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)  # JSON, as published
    private_key: Mapped[str] = mapped_column(Text)  # sealed PKCS#8 PEM
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # stopped signing
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # stops verifying
