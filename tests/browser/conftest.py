"""The social-login fixtures (a real OpenID Connect provider on loopback), for the binding cookie."""

from __future__ import annotations

from tests.oauth.conftest import op, social

__all__ = ["op", "social"]
