"""Fixtures for the audit-trail tests: an admin who may read it, and the real mail server and
OpenID provider that the event-coverage test drives flows through."""

from __future__ import annotations

from tests.messaging.conftest import mailbox
from tests.oauth.conftest import op

__all__ = ["mailbox", "op"]
