"""How far the accounts' password hashes have moved to the configured scheme: the operator's
view of a migration (`authgate user stats`). Counts only; never a hash or a parameter."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.core.parts import Parts
from authgate.security.hashing import StoredHash
from authgate.storage.repositories import users as user_repo

PAGE = 1000


@dataclass(frozen=True)
class PasswordStats:
    users: int
    without_password: int
    schemes: dict[str, int]  # accounts per scheme, most first
    outdated: int  # hashes the owner's next sign-in replaces: another scheme, or other parameters


async def password_stats(rt: Parts) -> PasswordStats:
    policy = rt.hasher.policy
    async with rt.read() as db:
        counts = await user_repo.count_by_scheme(db)
        current_but_outdated, after = 0, ""
        while page := await user_repo.hashes_of_scheme(db, scheme=policy.scheme, after=after, limit=PAGE):
            current_but_outdated += sum(policy.needs_rehash(StoredHash(policy.scheme, value)) for _, value in page)
            after = page[-1][0]
    schemes = {scheme: n for scheme, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or "")) if scheme}
    other = sum(n for scheme, n in schemes.items() if scheme != policy.scheme)
    return PasswordStats(
        users=sum(counts.values()),
        without_password=counts.get(None, 0),
        schemes=schemes,
        outdated=other + current_but_outdated,
    )
