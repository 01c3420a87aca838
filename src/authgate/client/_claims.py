"""The verified claims of an access token, read-only.

One `Claims` object may be handed to many requests (verified claims are cached), so none of
them can change what another sees: lists and objects inside come out as fresh copies.

Two kinds of access token pass a verifier: authgate's own (`"purpose": "access"`, for its
sign-in), and, when the verifier accepts them, those authgate gave to apps
(`"purpose": "oauth_access"`), which name the app (`client_id`) and what it was granted
(`scope`). The scope and client shortcuts read the latter kind only.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

ALL_CAPS = "*"  # authgate's capability that stands for every capability
ACCESS = "access"  # the purpose of authgate's own access tokens
APP_ACCESS = "oauth_access"  # the purpose of the access tokens authgate gives apps


class Claims(Mapping[str, Any]):
    """`claims["sub"]`, `claims["email"]`, ... as in the token; typed shortcuts for the
    claims authgate always sets, and the role and capability checks."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        value = self._values[name]
        return copy.deepcopy(value) if isinstance(value, list | dict) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # no email or other personal data in logs
        if self.is_client_token:
            return f"Claims(sub={self.sub!r}, role={self.role!r}, client_id={self.client_id!r})"
        return f"Claims(sub={self.sub!r}, role={self.role!r})"

    @property
    def sub(self) -> str:
        """The user's id; in a token an app got for itself (client credentials), the app's
        client id."""
        value: str = self._values["sub"]
        return value

    @property
    def is_client_token(self) -> bool:
        """Whether authgate gave this token to an app (`"purpose": "oauth_access"`), rather
        than to a sign-in of its own."""
        return self._values.get("purpose") == APP_ACCESS

    @property
    def client_id(self) -> str | None:
        """The app authgate gave the token to; None for authgate's own tokens."""
        return self._text("client_id") if self.is_client_token else None

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes the app was granted (its token's `scope`, split); empty for authgate's
        own tokens, which carry capabilities instead."""
        scope = self._values.get("scope") if self.is_client_token else None
        return tuple(name for name in scope.split(" ") if name) if isinstance(scope, str) else ()

    @property
    def sid(self) -> str | None:
        """The session's id."""
        return self._text("sid")

    @property
    def email(self) -> str | None:
        return self._text("email")

    @property
    def role(self) -> str | None:
        return self._text("role")

    @property
    def caps(self) -> tuple[str, ...]:
        """The capabilities the user's role carried when the token was issued."""
        return tuple(self._values.get("caps") or ())

    @property
    def amr(self) -> tuple[str, ...]:
        """How the user signed in (`pwd`, `otp`, ...)."""
        return tuple(self._values.get("amr") or ())

    @property
    def exp(self) -> int:
        """When the token expires (Unix seconds)."""
        return int(self._values["exp"])

    def has_role(self, *roles: str) -> bool:
        """Whether the token's role is one of `roles`."""
        return self.role is not None and self.role in roles

    def has_caps(self, *needed: str) -> bool:
        """Whether the token carries every capability in `needed` (`*` carries them all)."""
        caps = self.caps
        return ALL_CAPS in caps or all(cap in caps for cap in needed)

    def has_scopes(self, *needed: str) -> bool:
        """Whether the token was granted every scope in `needed` (no scope stands for others)."""
        scopes = self.scopes
        return all(scope in scopes for scope in needed)

    def _text(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if isinstance(value, str) else None
