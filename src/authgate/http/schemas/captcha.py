"""The ALTCHA challenge, as the widget reads it."""

from __future__ import annotations

from pydantic import BaseModel


class ChallengeOut(BaseModel):
    algorithm: str
    challenge: str
    maxnumber: int
    salt: str
    signature: str
