"""The OpenID provider's machine endpoints, at the issuer's root only: discovery, token,
userinfo, revocation and introspection (docs/oidc-provider.md). The browser's endpoints
(authorize, consent, logout) render hosted pages and live in ui/routes/provider.py.

Bodies are forms (RFC 6749 §3.2); a parameter sent twice is `invalid_request`. Errors carry
RFC 6749's `error` and `error_description` beside the problem document's members. Apps in
browsers call these directly, so answers allow any origin, without credentials: no cookie is
read here.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from authgate.errors import AuthError, ErrorCode, invalid_client, oauth_error
from authgate.http.client_auth import basic_credentials
from authgate.http.deps import RuntimeDep
from authgate.http.forms import FORM_TYPE, RepeatedField, UnreadableForm, form_fields, is_form
from authgate.http.problems import problem_document
from authgate.http.request_scope import context_of
from authgate.runtime.root import Runtime
from authgate.services import introspection
from authgate.services.oauth2 import access as app_tokens
from authgate.services.oauth2 import clients as client_service
from authgate.services.oauth2 import grants
from authgate.services.oauth2.discovery import metadata
from authgate.services.oauth2.tokens import user_claims

router = APIRouter(include_in_schema=False)
MAX_FIELDS = 20
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {
    **ANY_ORIGIN,
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}
FORM_PATHS = ("/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/oauth2/userinfo")
BEARER = 'Bearer realm="authgate"'


def _json(body: dict[str, object], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **ANY_ORIGIN, **(headers or {})})


def _error(exc: AuthError) -> JSONResponse:
    """RFC 6749's `error` and `error_description` beside the problem document's members."""
    body: dict[str, object] = {
        "error": exc.extra.get("error", exc.code.value),
        "error_description": exc.extra.get("error_description", exc.detail or exc.title),
        **problem_document(exc.status, exc.code.value, exc.title, exc.detail),
    }
    if exc.code == ErrorCode.RATE_LIMITED:
        body["error"] = "temporarily_unavailable"
    return _json(body, exc.status, exc.headers)


async def form_of(request: Request) -> dict[str, str]:
    """The form body; each parameter once (RFC 6749 §3.1)."""
    if not is_form(request):
        raise oauth_error(ErrorCode.INVALID_REQUEST, f"Send the body as {FORM_TYPE}.")
    try:
        return form_fields(await request.body(), max_fields=MAX_FIELDS)
    except UnreadableForm:
        raise oauth_error(ErrorCode.INVALID_REQUEST, "The form cannot be read.") from None
    except RepeatedField as repeated:
        raise oauth_error(ErrorCode.INVALID_REQUEST, f"{repeated.name} was sent more than once.") from None


async def authenticate_client(request: Request, rt: Runtime, fields: dict[str, str]) -> client_service.Client:
    """HTTP Basic, or `client_id` (+ `client_secret`) in the body, never both (RFC 6749 §2.3)."""
    basic = basic_credentials(request)
    if basic is not None and ("client_secret" in fields or ("client_id" in fields and fields["client_id"] != basic[0])):
        raise invalid_client()
    client_id, secret = basic if basic is not None else (fields.get("client_id"), fields.get("client_secret"))
    if not client_id:
        raise invalid_client()
    await rt.limiter.hit("oauth2_token.client", client_id[:36])
    return await client_service.authenticate_client(rt, client_id=client_id, secret=secret)


async def _client_request(request: Request, rt: Runtime) -> tuple[dict[str, str], client_service.Client]:
    """A client's form post to the token, revocation or introspection endpoint: counted per
    address, read, and its client authenticated (401 before anything else is looked at)."""
    await rt.limiter.hit("oauth2_token.ip", context_of(request, rt.settings.trusted_proxies).ip_address)
    fields = await form_of(request)
    return fields, await authenticate_client(request, rt, fields)


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise oauth_error(ErrorCode.INVALID_REQUEST, f"{name} is required.")
    return value


# --- discovery -------------------------------------------------------------------------------------


@router.get("/.well-known/openid-configuration")
@router.get("/.well-known/oauth-authorization-server")
async def discovery(rt: RuntimeDep) -> Response:
    return JSONResponse(metadata(rt.settings), headers={"Cache-Control": "public, max-age=300", **ANY_ORIGIN})


# --- token -----------------------------------------------------------------------------------------


@router.post("/oauth2/token")
async def token(request: Request, rt: RuntimeDep) -> Response:
    outcome = "error"
    grant_type = "unknown"
    try:
        fields, client = await _client_request(request, rt)
        grant_type = _required(fields, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            grant_type = "unknown"
            raise oauth_error(
                ErrorCode.UNSUPPORTED_GRANT_TYPE, "Supported: authorization_code, refresh_token, client_credentials."
            )
        if not client_service.allows_grant(client, grant_type):
            raise oauth_error(ErrorCode.UNAUTHORIZED_CLIENT, f"This client may not use {grant_type}.")
        if grant_type == "authorization_code":
            tokens = await grants.exchange_code(
                rt,
                client,
                code=_required(fields, "code"),
                redirect_uri=fields.get("redirect_uri"),
                verifier=fields.get("code_verifier"),
            )
        elif grant_type == "refresh_token":
            tokens = await grants.refresh(
                rt, client, token=_required(fields, "refresh_token"), scope=fields.get("scope")
            )
        else:
            tokens = grants.client_credentials(rt, client, scope=fields.get("scope"))
    except AuthError as exc:
        rt.metrics.oauth2_token(grant_type, exc.extra.get("error", exc.code.value))
        return _error(exc)
    outcome = "issued"
    rt.metrics.oauth2_token(grant_type, outcome)
    return _json(tokens.body())


# --- userinfo --------------------------------------------------------------------------------------


def _bearer_error(exc: AuthError) -> Response:
    response = _error(exc)
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


@router.get("/oauth2/userinfo")
@router.post("/oauth2/userinfo")
async def userinfo(request: Request, rt: RuntimeDep) -> Response:
    if "access_token" in request.query_params:
        return _error(oauth_error(ErrorCode.INVALID_REQUEST, "Send the access token in the Authorization header."))
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else None
    try:
        if request.method == "POST" and is_form(request):
            fields = await form_of(request)
            if "access_token" in fields:
                if token is not None:
                    raise oauth_error(ErrorCode.INVALID_REQUEST, "Send the access token one way only.")
                token = fields["access_token"]
    except AuthError as exc:
        return _error(exc)
    if not token:
        body = {"error": "invalid_token", "error_description": "An access token is required."}
        return _json({**body, "code": "invalid_token"}, 401, {"WWW-Authenticate": BEARER})
    try:
        found = await app_tokens.access(rt, token)
    except AuthError as exc:
        return _bearer_error(oauth_error(ErrorCode.INVALID_TOKEN, exc.detail or "The access token is not valid.", 401))
    if found.user is None or "openid" not in found.scopes:
        narrow = oauth_error(ErrorCode.INSUFFICIENT_SCOPE, "The access token was not granted the openid scope.", 403)
        response = _error(narrow)
        response.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
        return response
    return _json({"sub": found.user.id, **user_claims(found.user, found.scopes)})


# --- revocation and introspection ------------------------------------------------------------------


@router.post("/oauth2/revoke")
async def revoke(request: Request, rt: RuntimeDep) -> Response:
    try:
        fields, client = await _client_request(request, rt)
        await grants.revoke(rt, client, token=_required(fields, "token"), hint=fields.get("token_type_hint"))
    except AuthError as exc:
        return _error(exc)
    return Response(status_code=200, headers={**NO_STORE, **ANY_ORIGIN})


@router.post("/oauth2/introspect")
async def introspect(request: Request, rt: RuntimeDep) -> Response:
    try:
        fields, client = await _client_request(request, rt)
        if client.kind == "public":
            raise invalid_client()
        answer = await introspection.introspect(
            rt, token=_required(fields, "token"), hint=fields.get("token_type_hint"), caller=client
        )
    except AuthError as exc:
        return _error(exc)
    return _json(answer)


@router.options("/oauth2/token")
@router.options("/oauth2/userinfo")
@router.options("/oauth2/revoke")
async def preflight() -> Response:
    return Response(status_code=204, headers=PREFLIGHT)
