"""TokenVerifier on its own: what it accepts as configuration, its claims, and its cache."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest

from authgate.client import AuthgateError, Claims, TokenVerifier, require_caps, require_role
from tests.support.app import TEST_SECRET
from tests.support.client_stub import JWKS_PATH, AuthgateStub, access_claims, hs256_token, make_key


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"secret": TEST_SECRET, "jwks_url": "https://auth.example/.well-known/jwks.json"},
        {"secret": "short"},
        {"jwks_url": "file:///etc/jwks.json"},
        {"secret": TEST_SECRET, "introspection_url": "https://auth.example/token/introspect"},
        {"secret": TEST_SECRET, "introspection_url": "https://auth.example/token/introspect", "client_id": "a"},
        {"secret": TEST_SECRET, "leeway": -1},
        {"secret": TEST_SECRET, "realm": 'a"b'},
    ],
)
def test_bad_configuration_is_refused_at_once(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        TokenVerifier(**options)  # type: ignore[arg-type]


def test_role_and_caps_need_something_to_require() -> None:
    verifier = TokenVerifier(secret=TEST_SECRET)
    with pytest.raises(ValueError):
        require_caps(verifier)
    with pytest.raises(ValueError):
        require_role(verifier)


async def test_claims_are_read_only_and_typed() -> None:
    token = jwt.encode(access_claims(caps=["users:read"], role="support"), TEST_SECRET, algorithm="HS256")
    verifier = TokenVerifier(secret=TEST_SECRET)
    claims = await verifier.verify(token)
    assert isinstance(claims, Claims) and claims["caps"] == ["users:read"]
    claims["caps"].append("*")  # a copy: the cached claims do not change
    again = await verifier.verify(token)
    assert again is claims and again.caps == ("users:read",) and not again.has_caps("users:write")
    assert again.has_caps("users:read") and again.has_role("admin", "support") and not again.has_role("admin")
    assert (again.sid, again.email, again.amr) == ("session-1", "ada@example.com", ("pwd",))
    assert "ada@example.com" not in repr(again)
    assert dict(again) == access_claims(caps=["users:read"], role="support") | {
        "iat": again["iat"],
        "exp": again.exp,
        "jti": again["jti"],
    }


async def test_a_cached_token_still_expires() -> None:
    # At least two seconds to live (`int` may take almost one off): the first check comes first
    # on a loaded machine too.
    token = jwt.encode(access_claims(exp=int(time.time()) + 3), TEST_SECRET, algorithm="HS256")
    verifier = TokenVerifier(secret=TEST_SECRET)
    assert (await verifier.verify(token)).sub == "user-1"
    await asyncio.sleep(max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.05)
    with pytest.raises(AuthgateError) as refused:
        await verifier.verify(token)
    assert refused.value.code == "token_expired"


async def test_leeway_allows_that_much_clock_skew() -> None:
    token = jwt.encode(access_claims(exp=int(time.time()) - 5), TEST_SECRET, algorithm="HS256")
    assert (await TokenVerifier(secret=TEST_SECRET, leeway=30).verify(token)).sub == "user-1"
    with pytest.raises(AuthgateError):
        await TokenVerifier(secret=TEST_SECRET).verify(token)


async def test_a_token_issued_by_a_clock_ahead_of_ours_passes() -> None:
    token = jwt.encode(access_claims(iat=int(time.time()) + 30), TEST_SECRET, algorithm="HS256")
    assert (await TokenVerifier(secret=TEST_SECRET).verify(token)).sub == "user-1"


async def test_kid_of_any_shape_is_not_a_key_in_secret_mode() -> None:
    claims = access_claims()
    for headers in ({}, {"kid": "hs-abc"}, {"kid": "https://evil.example/key"}):
        assert (await TokenVerifier(secret=TEST_SECRET).verify(jwt.encode(claims, TEST_SECRET, headers=headers))).sub
    with pytest.raises(AuthgateError):
        await TokenVerifier(secret=TEST_SECRET).verify(
            hs256_token(TEST_SECRET.encode(), {"alg": "HS256", "kid": 7}, claims)
        )


async def test_a_given_http_client_is_used_and_left_open(authgate_stub: AuthgateStub) -> None:
    key = make_key("EdDSA")
    authgate_stub.publish(key)
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        async with TokenVerifier(jwks_url=authgate_stub.jwks_url, http_client=http) as verifier:
            await verifier.verify(key.sign(access_claims()))
        assert not http.is_closed
    assert seen == [authgate_stub.jwks_url]
    assert authgate_stub.hits[JWKS_PATH] == 1
