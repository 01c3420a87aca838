"""What the client tests run against: a real HTTP server on loopback standing in for
authgate's JWKS and introspection endpoints (in a thread, counting what it serves), keys made
with `cryptography`, and tokens signed with PyJWT as authgate signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from tests.support.server import free_port, serve_in_thread

ISSUER = "http://authgate.test"
JWKS_PATH = "/.well-known/jwks.json"
INTROSPECT_PATH = "/token/introspect"
CLIENT_ID = "svc_orders"
CLIENT_SECRET = "agsvc_orders secret/+=:0123456789"  # changes when form-urlencoded
APP_ID = "app-billing"  # the client id of an app authgate gives access tokens to
APP_TYP = "at+jwt"


@dataclass
class SigningKey:
    algorithm: str
    private: Any
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    @property
    def jwk(self) -> dict[str, Any]:
        """The public JWK as authgate publishes it."""
        public = self.private.public_key()
        kind = {"EdDSA": OKPAlgorithm, "ES256": ECAlgorithm, "RS256": RSAAlgorithm}[self.algorithm]
        members = kind.to_jwk(public, as_dict=True)
        members.pop("key_ops", None)
        return {**members, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm=self.algorithm, headers={"typ": "JWT", "kid": self.kid, **headers}
        )


def make_key(algorithm: str) -> SigningKey:
    if algorithm == "EdDSA":
        return SigningKey(algorithm, ed25519.Ed25519PrivateKey.generate())
    if algorithm == "ES256":
        return SigningKey(algorithm, ec.generate_private_key(ec.SECP256R1()))
    return SigningKey(algorithm, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def access_claims(**overrides: Any) -> dict[str, Any]:
    """The claims of an authgate access token for a plain user, issued now for 15 minutes."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "authgate",
        "iat": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
        "purpose": "access",
        "sub": "user-1",
        "sid": "session-1",
        "email": "ada@example.com",
        "role": "user",
        "caps": [],
        "amr": ["pwd"],
    }
    claims.update(overrides)
    return claims


def app_access_claims(**overrides: Any) -> dict[str, Any]:
    """The claims of an access token authgate gave an app (`APP_ID`) for a plain user, with the
    app's client id as its audience, issued now for 15 minutes. Sign it with `typ=APP_TYP`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": APP_ID,
        "exp": now + 900,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "client_id": APP_ID,
        "scope": "openid billing:read",
        "purpose": "oauth_access",
        "sid": "session-1",
        "auth_time": now - 60,
        "amr": ["pwd"],
        "gid": "grant-1",
    }
    claims.update(overrides)
    return claims


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def hs256_token(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Signed by hand, for headers PyJWT will not write (a public key as HMAC secret, a kid
    that is not a string)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


class AuthgateStub:
    """A real HTTP server answering as authgate's JWKS (`jwks`, with `cache_control`) and
    introspection endpoint (HTTP Basic `CLIENT_ID:CLIENT_SECRET`; a token is active while it
    is in `active`). `hits` counts requests by path, whatever the path (`arrivals` says when); `delay` slows every
    answer; `stop()` takes it down, leaving nothing listening on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.jwks_url = self.base + JWKS_PATH
        self.introspect_url = self.base + INTROSPECT_PATH
        self.keys: list[dict[str, Any]] = []
        self.cache_control = "public, max-age=300"
        self.active: set[str] = set()
        self.delay = 0.0
        self.hits: Counter[str] = Counter()
        self.arrivals: dict[str, list[float]] = {}  # time.monotonic() of each request, by path
        self.introspected: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def publish(self, *keys: SigningKey, extra: list[dict[str, Any]] | None = None) -> None:
        self.keys = [k.jwk for k in keys] + (extra or [])

    def start(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                stub.count(path)
                if path != JWKS_PATH:
                    self.answer(404, {"detail": "not here"})
                    return
                self.answer(200, {"keys": stub.keys}, {"Cache-Control": stub.cache_control})

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                stub.count(path)
                if path != INTROSPECT_PATH:
                    self.answer(404, {"detail": "not here"})
                    return
                if stub.credentials(self.headers.get("authorization", "")) != (CLIENT_ID, CLIENT_SECRET):
                    self.answer(401, {"code": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="authgate"'})
                    return
                form = parse_qs(body)
                with stub._lock:
                    stub.introspected.append(form)
                token = form.get("token", [""])[0]
                if token in stub.active:
                    claims = jwt.decode(token, options={"verify_signature": False})
                    named = ("sub", "sid", "exp", "client_id", "scope")  # an app's token for itself has no sid
                    self.answer(200, {"active": True, **{name: claims[name] for name in named if name in claims}})
                else:
                    self.answer(200, {"active": False})

            def answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                time.sleep(stub.delay)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                return None

        self._server = serve_in_thread(Handler, self.port)

    @staticmethod
    def credentials(authorization: str) -> tuple[str, str] | None:
        """HTTP Basic as RFC 6749 §2.3.1 has it: each part form-urlencoded, then joined by ':'."""
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        client_id, colon, secret = base64.b64decode(encoded).decode().partition(":")
        return (unquote_plus(client_id), unquote_plus(secret)) if colon else None

    def count(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1
            self.arrivals.setdefault(path, []).append(time.monotonic())

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
