"""The loopback mail and SMS receivers and the OpenID Provider, for the app-integration tests."""

from tests.messaging.conftest import mailbox, messaging_client, sms
from tests.oauth.conftest import op, social

__all__ = ["mailbox", "messaging_client", "op", "sms", "social"]
