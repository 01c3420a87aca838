"""How a client (a service, an app) names itself with HTTP Basic (RFC 6749 §2.3.1): the id and
secret, each form-urlencoded, in `Authorization: Basic`. Token introspection and the OpenID
provider's endpoints read it the same way."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from fastapi import Request

from authgate.errors import invalid_client


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """`Authorization: Basic` credentials, if sent; a header that cannot be read is refused."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid_client() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise invalid_client()
    return unquote_plus(client_id), unquote_plus(secret)
