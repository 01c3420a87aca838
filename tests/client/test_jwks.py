"""JWKS mode against a real key server: each algorithm, the cache and its refetches, key
rotation, headers that must never choose a key, algorithm confusion, and failing closed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

import jwt
import pytest

from authgate.client import AuthgateError, TokenVerifier
from tests.support.client_service import assert_problem, calling, fastapi_service
from tests.support.client_stub import (
    ISSUER,
    JWKS_PATH,
    AuthgateStub,
    SigningKey,
    access_claims,
    b64,
    hs256_token,
    make_key,
)
from tests.support.http import bearer


def verifier_for(stub: AuthgateStub, **options: object) -> TokenVerifier:
    return TokenVerifier(jwks_url=stub.jwks_url, issuer=ISSUER, **options)  # type: ignore[arg-type]


async def refused(verifier: TokenVerifier, token: str) -> AuthgateError:
    with pytest.raises(AuthgateError) as caught:
        await verifier.verify(token)
    return caught.value


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256"])
async def test_each_algorithm_verifies_through_a_service(authgate_stub: AuthgateStub, algorithm: str) -> None:
    key = make_key(algorithm)
    authgate_stub.publish(key)
    async with verifier_for(authgate_stub) as verifier, calling(fastapi_service(verifier)) as service:
        token = key.sign(access_claims(sub="user-7", caps=["things:write"]))
        response = await service.get("/api/profile", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json() == {"id": "user-7", "email": "ada@example.com", "caps": ["things:write"]}
        assert (await service.delete("/api/things/9", headers=bearer(token))).json() == {"deleted": "9", "by": "user-7"}
        forged = make_key(algorithm)
        forged.kid = key.kid  # same kid, another private key
        assert_problem(
            await service.get("/api/profile", headers=bearer(forged.sign(access_claims()))), 401, "invalid_token"
        )
    assert authgate_stub.hits == {JWKS_PATH: 1}


async def test_unknown_kid_makes_one_fetch_for_twenty_concurrent_requests(authgate_stub: AuthgateStub) -> None:
    old, new = make_key("EdDSA"), make_key("ES256")
    authgate_stub.publish(old)
    async with (
        verifier_for(authgate_stub, jwks_refetch_interval=0.2) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        assert (await service.get("/api/profile", headers=bearer(old.sign(access_claims())))).status_code == 200
        authgate_stub.publish(new, old)  # authgate rotated: tokens signed by the new key arrive
        authgate_stub.delay = 0.2  # so the requests are all waiting while the one fetch runs
        await asyncio.sleep(0.25)
        tokens = [new.sign(access_claims(sub=f"user-{i}")) for i in range(20)]
        responses = await asyncio.gather(*(service.get("/api/profile", headers=bearer(t)) for t in tokens))
    assert [r.json()["id"] for r in responses] == [f"user-{i}" for i in range(20)]
    assert authgate_stub.hits[JWKS_PATH] == 2


async def test_made_up_kids_cannot_make_more_than_one_fetch_per_interval(authgate_stub: AuthgateStub) -> None:
    known, attacker = make_key("EdDSA"), make_key("EdDSA")
    authgate_stub.publish(known)
    # An interval of 2 s: the fifty refusals and the next steps fit in one on a loaded machine.
    async with verifier_for(authgate_stub, jwks_refetch_interval=2.0) as verifier:
        await verifier.verify(known.sign(access_claims()))
        await asyncio.sleep(2.05)

        def random_kid_token() -> str:
            attacker.kid = uuid.uuid4().hex
            return attacker.sign(access_claims())

        tokens = [random_kid_token() for _ in range(30)]
        errors = await asyncio.gather(*(refused(verifier, t) for t in tokens))
        errors += [await refused(verifier, random_kid_token()) for _ in range(20)]
        assert {(e.status, e.code) for e in errors} == {(401, "invalid_token")}
        assert authgate_stub.hits[JWKS_PATH] == 2

        # A key published inside the interval is seen once the interval is over.
        fresh = make_key("EdDSA")
        authgate_stub.publish(known, fresh)
        assert (await refused(verifier, fresh.sign(access_claims()))).code == "invalid_token"
        assert authgate_stub.hits[JWKS_PATH] == 2
        await asyncio.sleep(2.05)
        assert (await verifier.verify(fresh.sign(access_claims()))).sub == "user-1"
        assert authgate_stub.hits[JWKS_PATH] == 3


async def test_rotated_out_key_is_refused_once_the_jwks_drops_it(authgate_stub: AuthgateStub) -> None:
    retired, current = make_key("RS256"), make_key("ES256")
    authgate_stub.publish(current, retired)  # the retired key is still in its grace period
    authgate_stub.cache_control = "public, max-age=1"
    old_token, new_token = retired.sign(access_claims(sub="old")), current.sign(access_claims(sub="new"))
    async with verifier_for(authgate_stub) as verifier:
        assert (await verifier.verify(old_token)).sub == "old"
        assert (await verifier.verify(new_token)).sub == "new"
        assert verifier._claims.kids() == {retired.kid, current.kid}

        authgate_stub.publish(current)  # grace over: authgate stops publishing it
        assert (await verifier.verify(old_token)).sub == "old"  # within max-age, from the cache
        assert authgate_stub.hits[JWKS_PATH] == 1

        await asyncio.sleep(1.05)
        error = await refused(verifier, old_token)
        assert (error.status, error.code) == (401, "invalid_token")
        assert authgate_stub.hits[JWKS_PATH] == 2
        assert verifier._claims.kids() == {current.kid}  # its cached claims went with it
        assert (await verifier.verify(new_token)).sub == "new"


@pytest.mark.parametrize(
    ("cache_control", "cache_seconds", "kept_for"),
    [
        ("public, max-age=1", 300.0, 1.0),  # authgate's max-age wins when shorter
        ("public, max-age=300", 0.5, 0.5),  # the configured time wins when shorter
        ("public, max-age=301", 300.0, None),  # nothing runs out within the test
        ("no-store", 300.0, 0.3),  # not cacheable: kept only for the refetch interval
    ],
)
async def test_key_set_is_cached_for_the_shorter_of_max_age_and_the_configured_time(
    authgate_stub: AuthgateStub, cache_control: str, cache_seconds: float, kept_for: float | None
) -> None:
    key = make_key("EdDSA")
    authgate_stub.publish(key)
    authgate_stub.cache_control = cache_control
    async with verifier_for(authgate_stub, jwks_cache_seconds=cache_seconds, jwks_refetch_interval=0.3) as verifier:
        token = key.sign(access_claims())
        await verifier.verify(token)
        fetched = time.monotonic()  # the set's lifetime starts when the fetch has finished: before this
        # Each call: when it began (since `fetched`), and whether the set had been fetched again by its end.
        calls: list[tuple[float, bool]] = []
        while time.monotonic() - fetched < 1.6 and authgate_stub.hits[JWKS_PATH] == 1:
            began = time.monotonic() - fetched
            await verifier.verify(token)
            calls.append((began, authgate_stub.hits[JWKS_PATH] > 1))
            await asyncio.sleep(0.02)
    if kept_for is None:
        assert authgate_stub.hits[JWKS_PATH] == 1
    else:
        # Not before the set ran out (the clock only says "no earlier") ...
        refetched_after = authgate_stub.arrivals[JWKS_PATH][1] - fetched
        assert kept_for - 0.05 <= refetched_after, refetched_after
        # ... and by the first call that began once it had (if one had not already, just before):
        # however late a loaded machine ran that call, it fetched again rather than verify with
        # the set it should have dropped.
        late = [again for began, again in calls if began >= kept_for]
        assert not late or late[0], calls


async def test_key_headers_never_send_the_verifier_elsewhere(
    authgate_stub: AuthgateStub, elsewhere: AuthgateStub
) -> None:
    real, attacker = make_key("EdDSA"), make_key("EdDSA")
    authgate_stub.publish(real)
    elsewhere.publish(attacker)  # a JWKS that would verify the attacker's tokens
    attacker_jwk = attacker.jwk
    pointers = [
        {"kid": elsewhere.jwks_url},
        {"kid": attacker.kid, "jku": elsewhere.jwks_url},
        {"kid": attacker.kid, "x5u": elsewhere.base + "/cert.pem"},
        {"kid": attacker.kid, "jwk": attacker_jwk},
        {"kid": real.kid, "jwk": attacker_jwk},  # our kid, but "use this key instead"
        {"kid": real.kid, "jku": elsewhere.jwks_url, "x5u": elsewhere.base + "/cert.pem", "x5c": ["MIIB"]},
    ]
    async with verifier_for(authgate_stub, jwks_refetch_interval=0) as verifier:
        for headers in pointers:
            token = jwt.encode(access_claims(), attacker.private, algorithm="EdDSA", headers={"typ": "JWT", **headers})
            assert (await refused(verifier, token)).code == "invalid_token", headers
        assert (await verifier.verify(real.sign(access_claims()))).sub == "user-1"
    assert sum(elsewhere.hits.values()) == 0
    assert set(authgate_stub.hits) == {JWKS_PATH}


async def test_algorithm_confusion_is_refused(authgate_stub: AuthgateStub) -> None:
    rsa_key, ed_key = make_key("RS256"), make_key("EdDSA")
    shared = b"a-secret-someone-published-in-a-jwks-0123456789"
    oct_jwk = {"kty": "oct", "k": b64(shared), "kid": "hs", "alg": "HS256", "use": "sig"}
    unnamed = make_key("ES256")
    no_alg = {k: v for k, v in unnamed.jwk.items() if k != "alg"}
    authgate_stub.publish(rsa_key, ed_key, extra=[oct_jwk, no_alg])
    claims = access_claims()
    forged = []
    for key in (rsa_key, ed_key):
        header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
        forged.append(hs256_token(key.public_pem, header, claims))
        forged.append(hs256_token(json.dumps(key.jwk).encode(), header, claims))
        for alg in ("none", "None"):
            forged.append(f"{b64({'alg': alg, 'typ': 'JWT', 'kid': key.kid})}.{b64(claims)}.")
    # a key used with another algorithm than its own: an RS256 key named by a PS256 token
    forged.append(jwt.encode(claims, rsa_key.private, algorithm="PS256", headers={"kid": rsa_key.kid}))
    forged.append(
        hs256_token(shared, {"alg": "HS256", "typ": "JWT", "kid": "hs"}, claims)
    )  # an `oct` key is never used
    forged.append(unnamed.sign(claims))  # a key that does not name its algorithm is never used
    async with verifier_for(authgate_stub, jwks_refetch_interval=0) as verifier:
        for token in forged:
            error = await refused(verifier, token)
            assert (error.status, error.code) == (401, "invalid_token"), jwt.get_unverified_header(token)
        assert (await verifier.verify(rsa_key.sign(claims))).sub == "user-1"
        assert (await verifier.verify(ed_key.sign(claims))).sub == "user-1"


async def test_token_without_kid_is_refused(authgate_stub: AuthgateStub) -> None:
    key = make_key("EdDSA")
    authgate_stub.publish(key)
    async with verifier_for(authgate_stub) as verifier:
        token = jwt.encode(access_claims(), key.private, algorithm="EdDSA")
        assert (await refused(verifier, token)).code == "invalid_token"


async def test_unreachable_jwks_fails_closed(authgate_stub: AuthgateStub) -> None:
    key = make_key("ES256")
    authgate_stub.publish(key)
    authgate_stub.cache_control = "max-age=3"  # time enough on a loaded machine for the checks while fresh
    token = key.sign(access_claims())
    async with (
        verifier_for(authgate_stub, jwks_refetch_interval=0.2) as verifier,
        calling(fastapi_service(verifier)) as service,
    ):
        assert (await service.get("/api/profile", headers=bearer(token))).status_code == 200
        fetched = time.monotonic()  # after the fetch: the set runs out before fetched + 3
        authgate_stub.stop()
        # While the set is fresh, known keys still verify; a kid it lacks cannot be checked.
        assert (await service.get("/api/profile", headers=bearer(token))).status_code == 200
        await asyncio.sleep(0.25)
        other = make_key("ES256")
        response = await service.get("/api/profile", headers=bearer(other.sign(access_claims())))
        assert_problem(response, 503, "temporarily_unavailable")
        assert response.headers["retry-after"] == "5"
        # Once it runs out, nothing verifies until authgate answers again.
        await asyncio.sleep(max(0.0, fetched + 3.05 - time.monotonic()))
        assert_problem(await service.get("/api/profile", headers=bearer(token)), 503, "temporarily_unavailable")
        assert_problem(await service.get("/api/profile", headers=bearer(token)), 503, "temporarily_unavailable")
        # A request without a token is still a 401: there is nothing to fetch keys for.
        assert_problem(await service.get("/api/profile"), 401, "invalid_token")


async def test_jwks_that_never_answered_fails_closed(authgate_stub: AuthgateStub) -> None:
    key = make_key("EdDSA")
    authgate_stub.stop()
    async with verifier_for(authgate_stub) as verifier:
        error = await refused(verifier, key.sign(access_claims()))
        assert (error.status, error.code) == (503, "temporarily_unavailable")


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        (lambda: access_claims(exp=int(time.time()) - 1), "token_expired"),
        (lambda: access_claims(aud="another-service"), "invalid_token"),
        (lambda: access_claims(iss="https://evil.example"), "invalid_token"),
        (lambda: access_claims(purpose="mfa"), "invalid_token"),
        (lambda: {k: v for k, v in access_claims().items() if k != "sub"}, "invalid_token"),
        (lambda: access_claims(caps="users:read"), "invalid_token"),
    ],
)
async def test_claims_are_checked_in_jwks_mode(
    authgate_stub: AuthgateStub, claims: Callable[[], dict[str, object]], code: str
) -> None:
    """The claims are made when the test runs (their times are read then, not at collection)."""
    key: SigningKey = make_key("EdDSA")
    authgate_stub.publish(key)
    async with verifier_for(authgate_stub) as verifier:
        assert (await refused(verifier, key.sign(claims()))).code == code
