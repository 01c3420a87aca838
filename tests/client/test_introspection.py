"""Introspection against a real RFC 7662 endpoint: active passes, inactive is refused, answers
are cached for the configured time only, and an endpoint that cannot answer fails closed."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from authgate.client import AuthgateError, TokenVerifier
from tests.support.app import TEST_SECRET
from tests.support.client_service import assert_problem, calling, fastapi_service
from tests.support.client_stub import CLIENT_ID, CLIENT_SECRET, INTROSPECT_PATH, AuthgateStub, access_claims
from tests.support.http import bearer


def introspecting(stub: AuthgateStub, *, secret: str = CLIENT_SECRET, cache_seconds: float = 5.0) -> TokenVerifier:
    return TokenVerifier(
        secret=TEST_SECRET,
        introspection_url=stub.introspect_url,
        client_id=CLIENT_ID,
        client_secret=secret,
        introspection_cache_seconds=cache_seconds,
    )


def token(**claims: object) -> str:
    return jwt.encode(access_claims(**claims), TEST_SECRET, algorithm="HS256")


async def test_active_passes_and_revoked_is_refused(authgate_stub: AuthgateStub) -> None:
    live, revoked = token(sub="live"), token(sub="revoked")
    authgate_stub.active.add(live)
    async with introspecting(authgate_stub) as verifier, calling(fastapi_service(verifier)) as service:
        assert (await service.get("/api/profile", headers=bearer(live))).json()["id"] == "live"
        body = assert_problem(await service.get("/api/profile", headers=bearer(revoked)), 401, "invalid_token")
        assert body["detail"] == "The token has been revoked."
    assert authgate_stub.introspected == [
        {"token": [live], "token_type_hint": ["access_token"]},
        {"token": [revoked], "token_type_hint": ["access_token"]},
    ]


async def test_answer_is_cached_for_its_time_only(authgate_stub: AuthgateStub) -> None:
    live = token()
    authgate_stub.active.add(live)
    # Two seconds: time enough on a loaded machine for the second call to find the answer cached.
    async with introspecting(authgate_stub, cache_seconds=2.0) as verifier:
        await verifier.verify(live)
        authgate_stub.active.clear()  # authgate ends the session
        await verifier.verify(live)  # still the cached answer
        assert authgate_stub.hits[INTROSPECT_PATH] == 1
        await asyncio.sleep(2.05)
        with pytest.raises(AuthgateError) as refused:
            await verifier.verify(live)
        assert (refused.value.status, refused.value.code) == (401, "invalid_token")
        assert authgate_stub.hits[INTROSPECT_PATH] == 2


async def test_concurrent_requests_with_one_token_make_one_call(authgate_stub: AuthgateStub) -> None:
    live = token()
    authgate_stub.active.add(live)
    authgate_stub.delay = 0.2
    async with introspecting(authgate_stub) as verifier, calling(fastapi_service(verifier)) as service:
        responses = await asyncio.gather(*(service.get("/api/profile", headers=bearer(live)) for _ in range(20)))
    assert {r.status_code for r in responses} == {200}
    assert authgate_stub.hits[INTROSPECT_PATH] == 1


async def test_tokens_that_fail_locally_are_never_sent(authgate_stub: AuthgateStub) -> None:
    async with introspecting(authgate_stub) as verifier:
        for bad in (
            token(aud="elsewhere"),
            token(purpose="mfa"),
            jwt.encode(access_claims(), "x" * 40, algorithm="HS256"),
        ):
            with pytest.raises(AuthgateError):
                await verifier.verify(bad)
    assert authgate_stub.hits[INTROSPECT_PATH] == 0


async def test_refused_service_credentials_fail_closed(authgate_stub: AuthgateStub) -> None:
    live = token()
    authgate_stub.active.add(live)
    async with (
        introspecting(authgate_stub, secret="not-the-secret") as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        for _ in range(2):  # not cached: each request asks
            assert_problem(await service.get("/api/profile", headers=bearer(live)), 503, "temporarily_unavailable")
    assert authgate_stub.hits[INTROSPECT_PATH] == 2


async def test_unreachable_endpoint_fails_closed(authgate_stub: AuthgateStub) -> None:
    live = token()
    authgate_stub.active.add(live)
    async with introspecting(authgate_stub, cache_seconds=0) as verifier, calling(fastapi_service(verifier)) as service:
        assert (await service.get("/api/profile", headers=bearer(live))).status_code == 200
        authgate_stub.stop()
        response = await service.get("/api/profile", headers=bearer(live))
        assert_problem(response, 503, "temporarily_unavailable")
        assert response.headers["retry-after"] == "5"
