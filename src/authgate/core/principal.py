"""Who is calling: the account and session an access token names, with the token's claims."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authgate.storage.models import Session, User


@dataclass(frozen=True)
class Principal:
    user: User
    session: Session
    claims: dict[str, Any]

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def session_id(self) -> str:
        return self.session.id
