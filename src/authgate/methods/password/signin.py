"""Signing in with a password (or a PIN: the name-and-PIN login's `pin` is the same
credential); a second factor's code may come in the same request."""

from __future__ import annotations

from authgate.core.parts import Parts
from authgate.methods.password import factor as password_factor
from authgate.methods.password.factor import PASSWORD
from authgate.scope import RequestContext
from authgate.signin import gate
from authgate.signin.sessions import LoginResult


async def login(
    rt: Parts, attempt: password_factor.PasswordAttempt, mfa_code: str | None, ctx: RequestContext
) -> LoginResult:
    """Sign in with a password (or PIN); a second factor's code may come in the same request.
    A correct password on an outdated hash moves it to the configured scheme in the sign-in's
    own transaction (committed with the session, or with the challenge of the second step)."""
    found = await password_factor.find(rt, attempt)
    async with gate.counting(rt, ctx, subject=password_factor.subject(attempt, found)):
        user = await password_factor.verify(rt, attempt, found)
        rehash = await password_factor.rehash(rt, attempt, user)
        step = await gate.second_step(rt, user_id=user.id, code=mfa_code) if mfa_code else None
        async with rt.uow() as tx:
            if rehash is not None:
                await password_factor.replace_hash(tx, rt, rehash)
            outcome = await gate.complete(tx, rt, user=user, proofs=[PASSWORD.proof], ctx=ctx, second=step)
    return await gate.finish(rt, outcome)
