"""The contract of the one store for one-time secrets, on SQLite and PostgreSQL: of N
concurrent consumers exactly one wins, and of N concurrent tries at most `max_attempts` are
counted. Links, codes and MFA challenges all rely on it (their own race tests are beside them)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from authgate.signin import one_time
from authgate.storage.models import utcnow
from authgate.storage.models.one_time import MAGIC_LINK, MFA_CHALLENGE
from authgate.storage.repositories import one_time as one_time_repo
from tests.support.app import runtime
from tests.support.http import register


async def _issue(client: httpx.AsyncClient, purpose: str, max_attempts: int = 1) -> tuple[str, str]:
    rt = runtime(client)
    user_id = (await register(client)).json()["user"]["id"]
    token, row = one_time.token_row(
        purpose=purpose, user_id=user_id, lifetime=timedelta(minutes=5), max_attempts=max_attempts
    )
    async with rt.uow() as tx:
        await one_time_repo.add(tx.db, row=row)
    return token, row.id


async def test_n_concurrent_consumers_exactly_one_wins(client: httpx.AsyncClient) -> None:
    rt = runtime(client)
    _, secret_id = await _issue(client, MAGIC_LINK)

    async def consume() -> bool:
        async with rt.uow() as tx:
            return await one_time_repo.consume(tx.db, secret_id=secret_id, now=utcnow())

    wins = await asyncio.gather(*(consume() for _ in range(12)))
    assert sorted(wins) == [False] * 11 + [True]


async def test_n_concurrent_tries_count_exactly(client: httpx.AsyncClient) -> None:
    rt = runtime(client)
    token, _ = await _issue(client, MFA_CHALLENGE, max_attempts=3)
    digest = one_time.token_row(purpose=MFA_CHALLENGE, user_id=None, lifetime=timedelta(0))[1].digest
    assert digest != token  # a fresh row has a fresh digest; the stored one is only a digest

    async def spend() -> bool:
        from authgate.security.opaque import digest as sha

        async with rt.uow() as tx:
            row = await one_time_repo.spend_attempt(tx.db, purpose=MFA_CHALLENGE, digest=sha(token), now=utcnow())
            return row is not None

    spent = await asyncio.gather(*(spend() for _ in range(12)))
    assert spent.count(True) == 3


async def test_a_secret_is_only_good_for_its_purpose(client: httpx.AsyncClient) -> None:
    from authgate.security.opaque import digest as sha

    rt = runtime(client)
    token, _ = await _issue(client, MFA_CHALLENGE)
    async with rt.uow() as tx:
        wrong = await one_time_repo.consume_by_digest(tx.db, purpose=MAGIC_LINK, digest=sha(token), now=utcnow())
    assert wrong is None
