"""pyotp as the user's authenticator app, and enrolling a user in MFA over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pyotp

from tests.support.http import STRONG_PASSWORD, bearer, register

PERIOD = 30


class Authenticator:
    """Hands out codes the way a careful user would: each for a later time step than the last
    one used, inside the server's ±1 window. The server refuses a step twice (and any older
    one), so a test that needs a fresh code asks for one here; three fit in one window, and a
    fourth waits for the next step."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last_step: int | None = None

    def _plan(self) -> tuple[int | None, float]:
        """(step to use, or None and how long to wait first)."""
        now = time.time()
        until_next = PERIOD - (now % PERIOD)
        if until_next < 1.0:  # too close to a step change: the server might see the next one
            return None, until_next + 0.05
        current = int(now // PERIOD)
        step = current - 1 if self.last_step is None else max(current - 1, self.last_step + 1)
        if step > current + 1:
            return None, until_next + 0.05
        return step, 0.0

    def _take(self, step: int) -> str:
        self.last_step = step
        return str(self.totp.generate_otp(step))

    async def code(self) -> str:
        while True:
            step, wait = self._plan()
            if step is not None:
                return self._take(step)
            await asyncio.sleep(wait)

    def code_sync(self) -> str:
        while True:
            step, wait = self._plan()
            if step is not None:
                return self._take(step)
            time.sleep(wait)

    def wrong_code(self) -> str:
        """A six-digit code that is right for no step in the window."""
        now = time.time()
        near = {self.totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
        return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in near)


@dataclass
class MfaAccount:
    email: str
    password: str
    token: str  # an access token from before MFA was enabled
    user_id: str
    secret: str
    app: Authenticator
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    def login_body(self, **extra: str) -> dict[str, str]:
        return {"email": self.email, "password": self.password, **extra}


async def enrol(client: httpx.AsyncClient, email: str = "ada@example.com", prefix: str = "/api/auth") -> MfaAccount:
    reg = (await register(client, email=email, prefix=prefix)).json()
    token = reg["accessToken"]
    setup = await client.post(f"{prefix}/mfa/setup", headers=bearer(token))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    app = Authenticator(secret)
    enable = await client.post(
        f"{prefix}/mfa/enable", headers=bearer(token), json={"secret": secret, "verificationCode": await app.code()}
    )
    assert enable.status_code == 200, enable.text
    return MfaAccount(
        email=email,
        password=STRONG_PASSWORD,
        token=token,
        user_id=reg["user"]["id"],
        secret=secret,
        app=app,
        recovery_codes=enable.json()["recoveryCodes"],
    )


async def mfa_token(client: httpx.AsyncClient, account: MfaAccount) -> str:
    """Sign in with the password only: the answer is `mfa_required` with an mfaToken."""
    response = await client.post("/api/auth/login", json=account.login_body())
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "mfa_required"
    token: str = response.json()["mfaToken"]
    return token


async def enable_code_factor(
    client: httpx.AsyncClient, token: str, channel: str, received: Callable[[], Awaitable[str]]
) -> None:
    """Turn the one-time-code second factor on for `channel` (`email` or `sms`) over HTTP: a
    code sent there, read by `received` (from the test's mailbox or SMS receiver), proves it."""
    sent = await client.post("/otp/send", json={"channel": channel, "purpose": "mfa"}, headers=bearer(token))
    assert sent.status_code == 202, sent.text
    body = {"channel": channel, "purpose": "mfa", "code": await received()}
    enabled = await client.post("/otp/verify", json=body, headers=bearer(token))
    assert enabled.status_code == 200, enabled.text
