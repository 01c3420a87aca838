"""`POST /token/introspect` (RFC 7662), for other services holding a service credential.

The body is a form post, as the RFC has it, or JSON with the same names. The caller
authenticates with HTTP Basic (`client_id:client_secret`, each form-urlencoded, RFC 6749
§2.3.1) or with `client_id` and `client_secret` in the body, never both.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from authgate.errors import (
    AuthError,
    FieldError,
    invalid_client,
    unsupported_media_type,
    validation_failed,
)
from authgate.http.client_auth import basic_credentials
from authgate.http.deps import RuntimeDep
from authgate.http.forms import FORM_TYPE, RepeatedField, UnreadableForm, form_fields, media_type
from authgate.http.schemas.introspection import IntrospectIn, IntrospectionOut
from authgate.observability.logging import get_logger
from authgate.runtime.root import Runtime
from authgate.services import introspection, service_credentials

router = APIRouter(tags=["introspection"])
log = get_logger("authgate.introspection")

PATH = "/token/introspect"
# Path patterns (see http/middleware.Edge) that may take a form post: RFC 7662's.
FORM_PATHS = (PATH,)
MAX_FIELDS = 10
NO_STORE = {"Cache-Control": "no-store"}  # an answer about a token is true only now
_BODY = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": {"type": "string"},
        "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
        "client_id": {"type": "string", "description": "or HTTP Basic"},
        "client_secret": {"type": "string", "description": "or HTTP Basic"},
    },
}
BODY_DOC: dict[str, Any] = {
    "requestBody": {"required": True, "content": {FORM_TYPE: {"schema": _BODY}, "application/json": {"schema": _BODY}}}
}


def _form_fields(body: bytes) -> dict[str, str]:
    """The form's fields; each may be sent once (RFC 6749 §3.1)."""
    try:
        return form_fields(body, max_fields=MAX_FIELDS)
    except UnreadableForm:
        raise validation_failed(detail="The form cannot be read.") from None
    except RepeatedField as repeated:
        raise validation_failed(FieldError(repeated.name, "Send each parameter once.")) from None


async def _read(request: Request) -> IntrospectIn:
    body = await request.body()
    media = media_type(request)
    try:
        if media == FORM_TYPE:
            return IntrospectIn.model_validate(_form_fields(body))
        if not body or media == "application/json" or media.endswith("+json"):
            return IntrospectIn.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    raise unsupported_media_type(f"Send the body as {FORM_TYPE} or application/json.")


async def _authenticate(request: Request, rt: Runtime, body: IntrospectIn) -> None:
    basic = basic_credentials(request)
    in_body = body.client_id is not None or body.client_secret is not None
    if basic is not None and in_body:
        raise invalid_client()  # one way of authenticating per request (RFC 6749 §2.3)
    client_id, secret = basic if basic is not None else (body.client_id, body.client_secret)
    if not client_id or secret is None:
        raise invalid_client()
    try:
        await service_credentials.authenticate(rt, client_id=client_id, secret=secret)
    except AuthError:
        log.info("introspection_client_refused", client_id=client_id[: service_credentials.CLIENT_ID_MAX])
        raise


@router.post(
    PATH,
    response_model=IntrospectionOut,
    responses={400: {}, 401: {}},
    openapi_extra=BODY_DOC,
    summary="Is this token active right now? (RFC 7662, for services)",
)
async def introspect(request: Request, rt: RuntimeDep) -> Response:
    """Always 200 for an authenticated service: the token's claims with `"active": true`, or
    exactly `{"active": false}`. The session is read from the database on every call, so a
    revocation shows at once."""
    body = await _read(request)
    await _authenticate(request, rt, body)
    if not body.token:
        raise validation_failed(FieldError("token", "This field is required."))
    answer = await introspection.introspect(rt, token=body.token, hint=body.token_type_hint)
    return Response(orjson.dumps(answer), media_type="application/json", headers=NO_STORE)
