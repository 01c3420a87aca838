"""The messaging fixtures (a real SMTP sink and SMS receiver), for attacks proved by what is sent."""

from __future__ import annotations

from tests.messaging.conftest import mailbox, mclient, messaging_client, sms

__all__ = ["mailbox", "mclient", "messaging_client", "sms"]
