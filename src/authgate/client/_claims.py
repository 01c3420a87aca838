"""The verified claims of an access token, read-only.

One `Claims` object may be handed to many requests (verified claims are cached), so none of
them can change what another sees: lists and objects inside come out as fresh copies.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

ALL_CAPS = "*"  # authgate's capability that stands for every capability


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
        return f"Claims(sub={self.sub!r}, role={self.role!r})"

    @property
    def sub(self) -> str:
        """The user's id."""
        value: str = self._values["sub"]
        return value

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

    def _text(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if isinstance(value, str) else None
