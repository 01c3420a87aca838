"""Signing in through a provider (OAuth 2.0 / OpenID Connect): a first factor whose channel
is the account at that provider.

The flow (state, code exchange, which account an identity opens) is `methods/oauth/flows.py`;
the providers are `oauth/`. This module is what the gate knows of the method: its proof.
"""

from __future__ import annotations

from authgate.core.factors import Proof

AMR = "fed"  # a federated sign-in: the provider authenticated the person


class OAuthMethod:
    name = "oauth"
    first_factor = True
    second_factor = False

    def proof(self, provider: str) -> Proof:
        """Each provider is a channel of its own: a second factor must not come through it."""
        return Proof(method=self.name, amr=AMR, channel=f"oauth:{provider}")


OAUTH = OAuthMethod()
