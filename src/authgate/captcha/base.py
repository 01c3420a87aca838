"""What every CAPTCHA check offers the guard: one question, asked with the client's token."""

from __future__ import annotations

from typing import Protocol

MAX_TOKEN_CHARS = 4096  # longer than any provider's token; a longer one is refused unread


class CaptchaVerifier(Protocol):
    async def verify(self, token: str, ip: str | None) -> bool:
        """Did a person solve the CAPTCHA this token stands for? False for anything doubtful:
        a wrong, used or expired token, and a provider that cannot be asked (fail closed)."""
        ...
