"""The test provider itself, driven with plain httpx: it must be right (and strict) before
authgate's social login is judged against it."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidClaimError, JoseError, MissingClaimError, UnsupportedAlgorithmError
from joserfc.jwk import KeySet

from tests.support.oidc_provider import TestProvider

CLIENT_ID = "authgate"
# `+` and `%` catch a client that skips the RFC 6749 §2.3.1 form-encoding in HTTP Basic.
SECRET = "s3cr+t/with:odd%chars"
REDIRECT = "http://127.0.0.1:9/callback"
GH_CLIENT = "gh-app"
GH_REDIRECT = "http://127.0.0.1:9/gh"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


@pytest.fixture
def oidc(op: TestProvider) -> TestProvider:
    op.register_client(CLIENT_ID, SECRET, [REDIRECT])
    op.register_client(GH_CLIENT, "gh-secret", [GH_REDIRECT], github=True)
    op.login_as("alice-1", email="alice@example.com", email_verified=True, name="Alice")
    return op


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize(op: TestProvider, http: httpx.Client, verifier: str, **overrides: str | None) -> httpx.Response:
    """The browser's trip to /authorize; an override of None drops that parameter."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "st/1 +&=",
        "nonce": "n-1",
        "code_challenge": challenge_of(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    return http.get(op.url("/authorize"), params={k: v for k, v in params.items() if v is not None})


def redirected_to(response: httpx.Response, redirect_uri: str = REDIRECT) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?")
    return dict(parse_qsl(urlsplit(location).query))


def code_for(op: TestProvider, http: httpx.Client, verifier: str, **overrides: str | None) -> str:
    return redirected_to(authorize(op, http, verifier, **overrides), overrides.get("redirect_uri") or REDIRECT)["code"]


def exchange(
    op: TestProvider,
    http: httpx.Client,
    code: str,
    verifier: str | None,
    *,
    client: tuple[str, str] = (CLIENT_ID, SECRET),
    post_auth: bool = False,
    accept: str = "application/json",
    **form: str,
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **form}
    if verifier is not None:
        data["code_verifier"] = verifier
    headers = {"Accept": accept}
    if post_auth:
        data.update(client_id=client[0], client_secret=client[1])
    else:
        pair = f"{quote_plus(client[0])}:{quote_plus(client[1])}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return http.post(op.url("/token"), data=data, headers=headers)


def id_token_of(op: TestProvider, http: httpx.Client) -> str:
    verifier = secrets.token_urlsafe(48)
    answer = exchange(op, http, code_for(op, http, verifier), verifier)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["id_token"]
    return token


def verified(op: TestProvider, http: httpx.Client, id_token: str) -> dict[str, Any]:
    """The claims of `id_token` once checked the way a careful relying party checks them."""
    keys = KeySet.import_key_set(http.get(op.url("/jwks")).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": op.issuer},
        aud={"essential": True, "value": CLIENT_ID},
        exp={"essential": True},
        nonce={"essential": True, "value": "n-1"},
    ).validate(token.claims)
    return token.claims


def test_discovery_document(op: TestProvider, http: httpx.Client) -> None:
    doc = http.get(op.url("/.well-known/openid-configuration")).json()
    assert doc["issuer"] == op.issuer and not op.issuer.endswith("/")
    assert doc["authorization_endpoint"] == op.url("/authorize")
    assert doc["token_endpoint"] == op.url("/token")
    assert doc["userinfo_endpoint"] == op.url("/userinfo")
    assert doc["jwks_uri"] == op.url("/jwks")
    assert doc["response_types_supported"] == ["code"]
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert "openid" in doc["scopes_supported"]
    jwks = http.get(doc["jwks_uri"]).json()
    assert [(k["kty"], k["kid"]) for k in jwks["keys"]] == [("RSA", "k1")]
    assert "d" not in jwks["keys"][0]


def test_code_flow_with_pkce_gives_a_verifiable_id_token(oidc: TestProvider, http: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    back = redirected_to(authorize(oidc, http, verifier))
    assert back["state"] == "st/1 +&="
    answer = exchange(oidc, http, back["code"], verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "openid email profile"
    claims = verified(oidc, http, body["id_token"])
    assert claims["sub"] == "alice-1" and claims["email"] == "alice@example.com" and claims["email_verified"] is True
    assert claims["name"] == "Alice" and claims["exp"] - claims["iat"] == 300
    header = jwt.decode(body["id_token"], KeySet.import_key_set(http.get(oidc.url("/jwks")).json())).header
    assert header == {"typ": "JWT", "alg": "RS256", "kid": "k1"}
    userinfo = http.get(oidc.url("/userinfo"), headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.json() == {"sub": "alice-1", "email": "alice@example.com", "email_verified": True, "name": "Alice"}
    assert oidc.authorize_requests[0]["code_challenge"] == challenge_of(verifier)
    assert oidc.authorize_requests[0]["nonce"] == "n-1"
    assert oidc.token_requests[0]["basic_auth"] is True
    assert oidc.token_requests[0]["form"]["code_verifier"] == verifier


def test_client_secret_post_and_absent_claims(oidc: TestProvider, http: httpx.Client) -> None:
    oidc.login_as("bob-2")
    verifier = secrets.token_urlsafe(48)
    code = code_for(oidc, http, verifier, nonce=None, scope="openid")
    answer = exchange(oidc, http, code, verifier, post_auth=True)
    assert answer.status_code == 200, answer.text
    assert oidc.token_requests[0]["basic_auth"] is False
    claims = jwt.decode(answer.json()["id_token"], KeySet.import_key_set(http.get(oidc.url("/jwks")).json())).claims
    assert set(claims) == {"iss", "sub", "aud", "exp", "iat"}


def test_no_id_token_without_openid_scope(oidc: TestProvider, http: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    answer = exchange(oidc, http, code_for(oidc, http, verifier, scope="email"), verifier)
    assert answer.status_code == 200 and "id_token" not in answer.json()


@pytest.mark.parametrize("sent", [None, "wrong-" + "x" * 43, "short"])
def test_bad_or_missing_verifier_is_invalid_grant(oidc: TestProvider, http: httpx.Client, sent: str | None) -> None:
    verifier = secrets.token_urlsafe(48)
    answer = exchange(oidc, http, code_for(oidc, http, verifier), sent)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_code_reuse_is_invalid_grant_and_revokes_the_first_token(oidc: TestProvider, http: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    code = code_for(oidc, http, verifier)
    access = exchange(oidc, http, code, verifier).json()["access_token"]
    again = exchange(oidc, http, code, verifier)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert http.get(oidc.url("/userinfo"), headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_code_checks_redirect_uri_client_and_age(oidc: TestProvider, http: httpx.Client) -> None:
    oidc.register_client("other", "other-secret", [REDIRECT, REDIRECT + "2"])
    verifier = secrets.token_urlsafe(48)
    moved = exchange(oidc, http, code_for(oidc, http, verifier), verifier, redirect_uri=REDIRECT + "2")
    stolen = exchange(oidc, http, code_for(oidc, http, verifier), verifier, client=("other", "other-secret"))
    oidc.code_ttl = 0
    expired = exchange(oidc, http, code_for(oidc, http, verifier), verifier)
    for answer in (moved, stolen, expired):
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_client_authentication_is_strict(oidc: TestProvider, http: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    wrong = exchange(oidc, http, code_for(oidc, http, verifier), verifier, client=(CLIENT_ID, "nope"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    raw = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()  # not form-encoded: `+` reads as a space
    unencoded = http.post(
        oidc.url("/token"),
        data={
            "grant_type": "authorization_code",
            "code": code_for(oidc, http, verifier),
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {raw}"},
    )
    assert unencoded.status_code == 401
    both = exchange(oidc, http, code_for(oidc, http, verifier), verifier, client_secret=SECRET)
    assert (both.status_code, both.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    "overrides",
    [{"redirect_uri": REDIRECT + "/"}, {"redirect_uri": None}, {"client_id": "unknown"}],
    ids=["trailing-slash", "no-redirect-uri", "unknown-client"],
)
def test_bad_client_or_redirect_uri_is_a_400_page(
    oidc: TestProvider, http: httpx.Client, overrides: dict[str, str | None]
) -> None:
    answer = authorize(oidc, http, secrets.token_urlsafe(48), **overrides)
    assert answer.status_code == 400 and "location" not in answer.headers


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"response_type": "token"},
    ],
)
def test_invalid_request_redirects_with_state(
    oidc: TestProvider, http: httpx.Client, overrides: dict[str, str | None]
) -> None:
    back = redirected_to(authorize(oidc, http, secrets.token_urlsafe(48), **overrides))
    assert back["error"] == "invalid_request" and back["state"] == "st/1 +&=" and "code" not in back


def test_deny_next_once(oidc: TestProvider, http: httpx.Client) -> None:
    oidc.deny_next()
    back = redirected_to(authorize(oidc, http, secrets.token_urlsafe(48)))
    assert back["error"] == "access_denied" and back["error_description"] and back["state"] == "st/1 +&="
    assert "code" in redirected_to(authorize(oidc, http, secrets.token_urlsafe(48)))


def test_tamper_changes_only_the_next_id_token(oidc: TestProvider, http: httpx.Client) -> None:
    past = int(time.time()) - 10
    oidc.tamper(aud="other-client", nonce="wrong", iss="http://evil.example", exp=past, email=None)
    claims = jwt.decode(id_token_of(oidc, http), KeySet.import_key_set(http.get(oidc.url("/jwks")).json())).claims
    assert (claims["aud"], claims["nonce"], claims["iss"], claims["exp"]) == (
        "other-client",
        "wrong",
        "http://evil.example",
        past,
    )
    assert "email" not in claims
    oidc.tamper(aud="other-client")
    with pytest.raises(InvalidClaimError):
        verified(oidc, http, id_token_of(oidc, http))
    oidc.tamper(nonce=None)
    with pytest.raises(MissingClaimError):
        verified(oidc, http, id_token_of(oidc, http))
    verified(oidc, http, id_token_of(oidc, http))  # the knob was used up


def test_foreign_key_and_alg_none_are_refused(oidc: TestProvider, http: httpx.Client) -> None:
    oidc.sign_next_with_foreign_key()
    foreign = id_token_of(oidc, http)
    header = json.loads(base64.urlsafe_b64decode(foreign.split(".")[0] + "=="))
    assert header["kid"] == http.get(oidc.url("/jwks")).json()["keys"][0]["kid"]  # same kid: only the signature is off
    with pytest.raises(BadSignatureError):
        verified(oidc, http, foreign)
    oidc.next_alg_none()
    unsigned = id_token_of(oidc, http)
    assert unsigned.endswith(".") and base64.urlsafe_b64decode(unsigned.split(".")[0] + "==") == b'{"alg": "none"}'
    with pytest.raises(UnsupportedAlgorithmError):
        verified(oidc, http, unsigned)
    verified(oidc, http, id_token_of(oidc, http))


def test_omit_id_token_next(oidc: TestProvider, http: httpx.Client) -> None:
    oidc.omit_id_token_next()
    verifier = secrets.token_urlsafe(48)
    answer = exchange(oidc, http, code_for(oidc, http, verifier), verifier)
    assert answer.status_code == 200 and "id_token" not in answer.json()
    assert id_token_of(oidc, http)


def test_rotate_key(oidc: TestProvider, http: httpx.Client) -> None:
    old = id_token_of(oidc, http)
    oidc.rotate_key()
    assert [k["kid"] for k in http.get(oidc.url("/jwks")).json()["keys"]] == ["k2"]
    with pytest.raises(JoseError):
        verified(oidc, http, old)
    new = id_token_of(oidc, http)
    assert jwt.decode(new, KeySet.import_key_set(http.get(oidc.url("/jwks")).json())).header["kid"] == "k2"


def test_fail_token_endpoint_once(oidc: TestProvider, http: httpx.Client) -> None:
    oidc.fail_token_endpoint(500)
    verifier = secrets.token_urlsafe(48)
    code = code_for(oidc, http, verifier)
    failed = exchange(oidc, http, code, verifier)
    assert failed.status_code == 500 and failed.content == b""
    oidc.fail_token_endpoint(400, {"error": "invalid_grant"})
    assert exchange(oidc, http, code, verifier).json() == {"error": "invalid_grant"}
    assert exchange(oidc, http, code, verifier).status_code == 200  # the failures did not use the code


def test_token_body_must_be_form_encoded(oidc: TestProvider, http: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    fields = {"grant_type": "authorization_code", "code": code_for(oidc, http, verifier), "redirect_uri": REDIRECT}
    answer = http.post(
        oidc.url("/token"), json={**fields, "code_verifier": verifier, "client_id": CLIENT_ID, "client_secret": SECRET}
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


def test_userinfo_needs_a_bearer_token(oidc: TestProvider, http: httpx.Client) -> None:
    verifier = secrets.token_urlsafe(48)
    access = exchange(oidc, http, code_for(oidc, http, verifier), verifier).json()["access_token"]
    assert http.post(oidc.url("/userinfo"), headers={"Authorization": f"Bearer {access}"}).json()["sub"] == "alice-1"
    assert http.get(oidc.url("/userinfo")).status_code == 401
    assert http.get(oidc.url("/userinfo"), headers={"Authorization": "Bearer made-up"}).status_code == 401


def github_token(op: TestProvider, http: httpx.Client, accept: str) -> httpx.Response:
    verifier = secrets.token_urlsafe(48)
    code = code_for(
        op, http, verifier, client_id=GH_CLIENT, redirect_uri=GH_REDIRECT, scope="read:user user:email", nonce=None
    )
    return exchange(
        op,
        http,
        code,
        verifier,
        client=(GH_CLIENT, "gh-secret"),
        post_auth=True,
        accept=accept,
        redirect_uri=GH_REDIRECT,
    )


def test_github_token_answer_is_form_encoded_unless_json_is_asked_for(oidc: TestProvider, http: httpx.Client) -> None:
    form = github_token(oidc, http, accept="*/*")
    assert form.status_code == 200 and form.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = dict(parse_qsl(form.text))
    assert fields["token_type"] == "bearer" and fields["scope"] == "read:user,user:email" and fields["access_token"]
    as_json = github_token(oidc, http, accept="application/json")
    assert set(as_json.json()) == {"access_token", "token_type", "scope"}


def test_github_user_and_emails(oidc: TestProvider, http: httpx.Client) -> None:
    oidc.login_as("4242", email="gh@example.com", email_verified=True, name="Octo")
    token = github_token(oidc, http, accept="application/json").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert http.get(oidc.url("/user"), headers=auth).json() == {
        "id": 4242,
        "login": "user4242",
        "name": "Octo",
        "email": "gh@example.com",
    }
    emails = http.get(oidc.url("/user/emails"), headers={"Authorization": f"token {token}"}).json()
    assert [(e["email"], e["primary"], e["verified"]) for e in emails] == [
        ("other-4242@users.noreply.github.com", False, True),
        ("gh@example.com", True, True),
    ]
    assert http.get(oidc.url("/user/emails")).status_code == 401
