"""An OpenID Connect Provider, plus a GitHub-shaped OAuth API, on loopback: authgate's social
login is tested against it over real HTTP instead of against mocks.

It is strict where real providers are strict (exact redirect_uri match, PKCE S256 required,
one-time codes bound to client, redirect_uri and verifier, RFC 6749 client authentication),
so a client bug fails here as it would in production. The knobs (`deny_next`, `tamper`,
`sign_next_with_foreign_key`, ...) act once, to play a broken or hostile provider.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import traceback
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote_plus, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CODE_TTL = 60.0
ID_TOKEN_TTL = 300
ACCESS_TOKEN_TTL = 3600
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 §4.1: a client with a short one is wrong


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    """The PKCE S256 code_challenge for `verifier` (RFC 7636 §4.2)."""
    return b64url(hashlib.sha256(verifier.encode()).digest())


class Reply(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def as_json(status: int, payload: Any, **headers: str) -> Reply:
    return Reply(status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode())


def as_text(status: int, text: str) -> Reply:
    return Reply(status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode())


def oauth_error(status: int, error: str, description: str, **headers: str) -> Reply:
    return as_json(status, {"error": error, "error_description": description}, **headers)


def redirect(uri: str, **params: str | None) -> Reply:
    """A 302 to `uri` with `params` added to whatever query it already has."""
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    return Reply(302, {"Location": f"{uri}{'&' if '?' in uri else '?'}{extra}"}, b"")


@dataclass
class Client:
    client_id: str
    secret: str
    redirect_uris: list[str]
    github: bool


@dataclass
class Grant:
    """One consent: bound to its code, then to the access token the code bought."""

    client_id: str
    redirect_uri: str
    scope: str
    challenge: str
    nonce: str | None
    user: dict[str, Any]
    issued: float
    used: bool = False
    access_token: str | None = None


class TestProvider:
    __test__ = False  # its name starts with "Test"; without this pytest tries to collect it

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, tuple[Grant, float]] = {}
        self._user: dict[str, Any] | None = None
        self._next: dict[str, Any] = {}
        self._kid = "k1"
        self._key = new_key(self._kid)
        self.code_ttl = CODE_TTL  # seconds a code stays exchangeable; lower it to test expiry
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()

    def url(self, path: str) -> str:
        return self.issuer + path

    # --- setup and one-shot knobs ---

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str], *, github: bool = False
    ) -> None:
        """`github=True` mimics GitHub's token endpoint: form-encoded answer unless the client
        asks for JSON, lower-case `bearer`, comma-separated scope, no `expires_in`."""
        with self._lock:
            self._clients[client_id] = Client(client_id, client_secret, list(redirect_uris), github)

    def login_as(
        self, sub: str, *, email: str | None = None, email_verified: bool | None = None, name: str | None = None
    ) -> None:
        """Who consents, at once, at every authorization from now on."""
        claims = {"email": email, "email_verified": email_verified, "name": name}
        with self._lock:
            self._user = {"sub": sub, **{k: v for k, v in claims.items() if v is not None}}

    def deny_next(self) -> None:
        """The next valid authorization request answers `error=access_denied`."""
        self._set_next(deny=True)

    def tamper(self, **claims: Any) -> None:
        """Override or add claims in the next ID token; a value of None removes the claim."""
        with self._lock:
            self._next.setdefault("tamper", {}).update(claims)

    def sign_next_with_foreign_key(self) -> None:
        """The next ID token is signed by a key that is not in the JWKS, under the current kid."""
        self._set_next(foreign_key=True)

    def next_alg_none(self) -> None:
        """The next ID token is unsigned: header {"alg": "none"}, empty signature."""
        self._set_next(alg_none=True)

    def omit_id_token_next(self) -> None:
        """The next token answer that should carry an ID token has none."""
        self._set_next(omit_id_token=True)

    def fail_token_endpoint(self, status: int, body: dict[str, Any] | None = None) -> None:
        """The next token request answers `status` with `body` as JSON (empty body if None)."""
        self._set_next(token_failure=(status, body))

    def rotate_key(self) -> None:
        """Sign with a new key under a new kid; the JWKS then lists only the new key."""
        with self._lock:
            self._kid = f"k{int(self._kid[1:]) + 1}"
            self._key = new_key(self._kid)

    def _set_next(self, **knobs: Any) -> None:
        with self._lock:
            self._next.update(knobs)

    # --- endpoints: each takes (query, headers, body) and returns a Reply ---

    def discovery(self, _query: str, _headers: Message, _body: bytes) -> Reply:
        return as_json(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.url("/authorize"),
                "token_endpoint": self.url("/token"),
                "userinfo_endpoint": self.url("/userinfo"),
                "jwks_uri": self.url("/jwks"),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"],
            },
        )

    def jwks(self, _query: str, _headers: Message, _body: bytes) -> Reply:
        with self._lock:
            return as_json(200, KeySet([self._key]).as_dict(private=False))

    def authorize(self, query: str, _headers: Message, _body: bytes) -> Reply:
        pairs = parse_qsl(query, keep_blank_values=True)
        params = dict(pairs)
        with self._lock:
            self.authorize_requests.append(params)
            client = self._clients.get(params.get("client_id", ""))
            redirect_uri = params.get("redirect_uri", "")
            if client is None or redirect_uri not in client.redirect_uris:
                # RFC 6749 §4.1.2.1: never redirect to an unverified URI (that would be an open redirect)
                return as_text(400, "unknown client_id, or redirect_uri not registered for it (exact match)")
            state = params.get("state")
            problem = (
                "a parameter is repeated" if len(pairs) != len(params)
                else "response_type must be code" if params.get("response_type") != "code"
                else "code_challenge is required" if not params.get("code_challenge")
                else "code_challenge_method must be S256" if params.get("code_challenge_method") != "S256"
                else None
            )  # fmt: skip
            if problem:
                return redirect(redirect_uri, error="invalid_request", error_description=problem, state=state)
            if self._next.pop("deny", False):
                return redirect(redirect_uri, error="access_denied", error_description="The user said no", state=state)
            if self._user is None:
                return as_text(500, "TestProvider: call login_as() before authorizing")
            code = secrets.token_urlsafe(32)
            self._codes[code] = Grant(
                client_id=params["client_id"],
                redirect_uri=redirect_uri,
                scope=params.get("scope", ""),
                challenge=params["code_challenge"],
                nonce=params.get("nonce"),
                user=dict(self._user),
                issued=time.monotonic(),
            )
            return redirect(redirect_uri, code=code, state=state)

    def token(self, _query: str, headers: Message, body: bytes) -> Reply:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
        form, accept = dict(pairs), headers["accept"] or ""
        basic = basic_credentials(headers["authorization"])
        with self._lock:
            self.token_requests.append({"form": form, "basic_auth": basic is not None, "accept": headers["accept"]})
            failure = self._next.pop("token_failure", None)
            if failure is not None:
                status, payload = failure
                return as_text(status, "") if payload is None else as_json(status, payload)
            if headers.get_content_type() != "application/x-www-form-urlencoded" or len(pairs) != len(form):
                return oauth_error(400, "invalid_request", "a form-encoded body without repeated parameters")
            client = self._authenticate(form, basic)
            if not isinstance(client, Client):
                return client
            if form.get("grant_type") != "authorization_code":
                return oauth_error(400, "unsupported_grant_type", "only authorization_code")
            grant = self._redeem(form, client)
            if not isinstance(grant, Grant):
                return grant
            grant.access_token = secrets.token_urlsafe(32)
            self._tokens[grant.access_token] = (grant, time.time() + ACCESS_TOKEN_TTL)
            answer: dict[str, Any] = {"access_token": grant.access_token, "token_type": "Bearer"}
            if client.github:  # GitHub's shape: no expires_in, comma-separated scope, form-encoded by default
                answer.update(token_type="bearer", scope=",".join(grant.scope.split()))
                if "application/json" not in accept:
                    return Reply(200, {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(answer).encode())
                return as_json(200, answer)
            answer.update(expires_in=ACCESS_TOKEN_TTL, scope=grant.scope)
            if "openid" in grant.scope.split() and not self._next.pop("omit_id_token", False):
                answer["id_token"] = self._id_token(grant)
            return as_json(200, answer, **{"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _authenticate(self, form: dict[str, str], basic: tuple[str, str] | None) -> Client | Reply:
        """RFC 6749 §2.3.1: HTTP Basic or client_id/client_secret in the body, never both."""
        if basic is not None and "client_secret" in form:
            return oauth_error(400, "invalid_request", "more than one client authentication method")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        client = self._clients.get(client_id)
        if (
            client is None
            or form.get("client_id", client_id) != client_id
            or not secrets.compare_digest(secret.encode(), client.secret.encode())
        ):
            return oauth_error(401, "invalid_client", "client authentication failed", **{"WWW-Authenticate": "Basic"})
        return client

    def _redeem(self, form: dict[str, str], client: Client) -> Grant | Reply:
        """The grant behind a code, if this client may have it. Once its client presents a code it is
        spent, even when the other checks fail: a real OP gives no second try."""
        grant = self._codes.get(form.get("code", ""))
        if grant is None or grant.client_id != client.client_id:
            return oauth_error(400, "invalid_grant", "unknown code")
        if grant.used:  # RFC 6749 §4.1.2: refuse, and revoke what the code bought the first time
            self._tokens.pop(grant.access_token or "", None)
            return oauth_error(400, "invalid_grant", "code already used")
        grant.used = True
        verifier = form.get("code_verifier", "")
        if time.monotonic() - grant.issued >= self.code_ttl:
            return oauth_error(400, "invalid_grant", "code expired")
        if form.get("redirect_uri") != grant.redirect_uri:
            return oauth_error(400, "invalid_grant", "redirect_uri differs from the authorization request's")
        if not VERIFIER.fullmatch(verifier) or s256(verifier) != grant.challenge:
            return oauth_error(400, "invalid_grant", "code_verifier missing or does not match code_challenge")
        return grant

    def _id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": grant.client_id, "exp": now + ID_TOKEN_TTL, "iat": now}
        claims.update(grant.user)
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        for name, value in self._next.pop("tamper", {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        alg_none, foreign = self._next.pop("alg_none", False), self._next.pop("foreign_key", False)
        if alg_none:
            return f"{b64url(json.dumps({'alg': 'none'}).encode())}.{b64url(json.dumps(claims).encode())}."
        key = new_key(self._kid) if foreign else self._key
        return jwt.encode({"alg": "RS256", "kid": self._kid}, claims, key)

    def _bearer(self, headers: Message, schemes: tuple[str, ...] = ("bearer",)) -> Grant | None:
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        with self._lock:
            grant, expires = self._tokens.get(token.strip(), (None, 0.0))
        return grant if scheme.lower() in schemes and expires > time.time() else None

    def userinfo(self, _query: str, headers: Message, _body: bytes) -> Reply:
        grant = self._bearer(headers)
        if grant is None:
            return oauth_error(401, "invalid_token", "missing or bad access token", **{"WWW-Authenticate": "Bearer"})
        return as_json(200, grant.user)

    def github_user(self, _query: str, headers: Message, _body: bytes) -> Reply:
        grant = self._bearer(headers, ("bearer", "token"))  # GitHub takes both schemes
        if grant is None:
            return as_json(401, {"message": "Bad credentials"})
        sub = grant.user["sub"]
        name, email = grant.user.get("name"), grant.user.get("email")
        return as_json(200, {"id": int(sub), "login": f"user{sub}", "name": name, "email": email})

    def github_emails(self, _query: str, headers: Message, _body: bytes) -> Reply:
        """The primary address comes second, after a verified non-primary one, so that a client
        taking the first entry instead of the primary one is caught."""
        grant = self._bearer(headers, ("bearer", "token"))
        if grant is None:
            return as_json(401, {"message": "Bad credentials"})
        sub, email = grant.user["sub"], grant.user.get("email")
        noreply = f"other-{sub}@users.noreply.github.com"
        emails = [{"email": noreply, "primary": False, "verified": True, "visibility": None}]
        if email is not None:
            verified = bool(grant.user.get("email_verified"))
            emails.append({"email": email, "primary": True, "verified": verified, "visibility": "public"})
        return as_json(200, emails)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from HTTP Basic, each form-urlencoded first as RFC 6749 §2.3.1 says:
    a client that skips that encoding fails here when the secret holds `+` or `%`.
    A malformed header gives ("", "") so that authentication fails rather than being skipped."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return ("", "")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else ("", "")


def _handler(op: TestProvider) -> type[BaseHTTPRequestHandler]:
    routes = {
        ("GET", "/.well-known/openid-configuration"): op.discovery,
        ("GET", "/jwks"): op.jwks,
        ("GET", "/authorize"): op.authorize,
        ("POST", "/token"): op.token,
        ("GET", "/userinfo"): op.userinfo,
        ("POST", "/userinfo"): op.userinfo,  # OIDC Core §5.3.1: both methods
        ("GET", "/user"): op.github_user,
        ("GET", "/user/emails"): op.github_emails,
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            route = routes.get((method, path))
            try:
                if route is not None:
                    reply = route(query, self.headers, body)
                else:
                    reply = as_text(405 if any(p == path for _, p in routes) else 404, f"no {method} {path}")
            except Exception:  # a bug here or in a test's setup: say so instead of dropping the connection
                reply = as_text(500, traceback.format_exc())
            self.send_response(reply.status)
            for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, *_args: Any) -> None:
            return None

    return Handler
