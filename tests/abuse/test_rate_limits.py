"""Request rate limits over HTTP: every guarded route answers 429 with its headers, counts
follow the account however it is spelt and wherever the requests come from, forged
`X-Forwarded-For` hops do not escape, and AUTHGATE_RATE_LIMITS turns them off or changes them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from authgate.abuse.rules import DEFAULTS, SMS_BUDGET, parse_rules
from authgate.settings import Settings
from tests.support.app import TEST_SECRET, ClientFactory
from tests.support.http import STRONG_PASSWORD, from_address, register
from tests.support.limits import assert_limited, assert_not_limited
from tests.support.settings import SECRET, assert_stops_naming
from tests.support.sms import PHONE

# (area, method, path, body): one request to each guarded route; a body that counts for the
# identifier rules names a different target each time, so only `<area>.ip` can trip.
ROUTES: list[tuple[str, str, str, Any]] = [
    ("register", "POST", "/register", lambda n: {"email": f"new{n}@example.com", "password": STRONG_PASSWORD}),
    ("login", "POST", "/login", lambda n: {"email": f"ada{n}@example.com", "password": "wrong-Password-1"}),
    ("mfa", "POST", "/mfa/verify", lambda n: {"mfaToken": f"not-a-token-{n}", "code": "123456"}),
    ("otp_send", "POST", "/otp/send", lambda n: {"channel": "sms", "phone": f"+1415555010{n}"}),
    ("otp_verify", "POST", "/otp/verify", lambda n: {"channel": "sms", "phone": f"+1415555010{n}", "code": "123456"}),
    ("email_verify", "POST", "/email/verify", lambda n: {"email": f"ada{n}@example.com"}),
    ("password_forgot", "POST", "/password/forgot", lambda n: {"email": f"ada{n}@example.com"}),
    ("magic_link", "POST", "/login/magic", lambda n: {"email": f"ada{n}@example.com"}),
    ("link", "GET", "/password/reset/not-a-token", None),
    ("link", "POST", "/password/reset/not-a-token", lambda n: {"password": STRONG_PASSWORD}),
    ("link", "GET", "/login/magic/not-a-token", None),
    ("link", "GET", "/email/verify/not-a-token", None),
    ("oauth", "GET", "/oauth/nowhere", None),
]


@pytest.mark.parametrize(("area", "method", "path", "body"), ROUTES, ids=[f"{r[1]} {r[2]}" for r in ROUTES])
async def test_each_guarded_route_answers_429_with_its_headers(
    make_client: ClientFactory, area: str, method: str, path: str, body: Any
) -> None:
    async with make_client(rate_limits=f"{area}.ip=2/minute") as client:
        for n in range(3):
            response = await client.request(method, f"/api/auth{path}", json=body(n) if body else None)
            if n < 2:
                assert_not_limited(response)
        assert_limited(response, limit=2)


async def test_retry_after_is_when_the_window_lets_the_next_request_in(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="oauth.ip=1/2 seconds") as client:
        assert_not_limited(await client.get("/oauth/nowhere"))
        refused = await client.get("/oauth/nowhere")
        assert_limited(refused, limit=1, within=2)
        await asyncio.sleep(int(refused.headers["Retry-After"]) + 0.1)
        assert_not_limited(await client.get("/oauth/nowhere"))


async def test_login_identifier_counts_the_account_across_spellings_and_addresses(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="login.identifier=2/minute") as client:
        await register(client)
        wrong = {"password": "wrong-Password-1"}
        async with from_address(client, "198.51.100.1") as second, from_address(client, "198.51.100.2") as third:
            assert_not_limited(await client.post("/login", json={"email": "Ada@Example.com", **wrong}))
            assert_not_limited(await second.post("/login", json={"email": "ada@example.com", **wrong}))
            assert_limited(await third.post("/login", json={"email": " ADA@example.COM", **wrong}), limit=2)
            # Even the right password waits: the limit is on the identifier, not on failures.
            right = {"email": "ada@example.com", "password": STRONG_PASSWORD}
            assert_limited(await third.post("/login", json=right), limit=2)
            # Another account, from the same addresses, is not held back.
            assert_not_limited(await third.post("/login", json={"email": "bob@example.com", **wrong}))


async def test_login_identifier_counts_a_username_sent_beside_a_null_email(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="login.identifier=2/minute") as client:
        await register(client, username="ada")
        for n, body in enumerate(
            [{"username": "ada"}, {"email": None, "username": "ada"}, {"email": None, "name": "ada"}]
        ):
            async with from_address(client, f"198.51.100.{n + 1}") as other:
                response = await other.post("/login", json={**body, "password": "wrong-Password-1"})
            assert response.status_code == (401 if n < 2 else 429), response.text
        assert_limited(response, limit=2)


async def test_otp_verify_identifier_counts_the_phone_across_spellings_and_addresses(
    make_client: ClientFactory,
) -> None:
    async with make_client(rate_limits="otp_verify.identifier=2/minute") as client:
        spellings = [PHONE, "+1 415 555 0100", "+1 (415) 555-0100"]
        for n, phone in enumerate(spellings):
            async with from_address(client, f"198.51.100.{n + 1}") as other:
                response = await other.post("/otp/verify", json={"channel": "sms", "phone": phone, "code": "123456"})
            if n < 2:
                assert_not_limited(response)
        assert_limited(response, limit=2)
        other_phone = {"channel": "sms", "phone": "+14155550199", "code": "123456"}
        assert_not_limited(await client.post("/otp/verify", json=other_phone))


async def test_rotating_x_forwarded_for_does_not_escape_without_trusted_proxies(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="oauth.ip=2/minute") as client:
        for n in range(3):
            response = await client.get("/oauth/nowhere", headers={"X-Forwarded-For": f"192.0.2.{n + 1}"})
        assert_limited(response, limit=2)


async def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_hop(make_client: ClientFactory) -> None:
    # The test client's own address (203.0.113.7) plays the proxy, with a second one behind it.
    async with make_client(rate_limits="oauth.ip=2/minute", trusted_proxies="203.0.113.7,10.0.0.0/8") as client:

        async def via_proxy(forwarded: str) -> Any:
            return await client.get("/oauth/nowhere", headers={"X-Forwarded-For": forwarded})

        assert_not_limited(await via_proxy("198.51.100.1"))
        assert_not_limited(await via_proxy("198.51.100.1, 10.0.0.5"))
        # The client prepends made-up hops; the proxies append what they saw: still 198.51.100.1.
        assert_limited(await via_proxy("192.0.2.1, 192.0.2.2, 198.51.100.1"), limit=2)
        assert_limited(await via_proxy("192.0.2.3, 198.51.100.1, 10.0.0.5"), limit=2)
        # Another real client behind the same proxy has a bucket of its own.
        assert_not_limited(await via_proxy("198.51.100.2"))
        assert_not_limited(await via_proxy("192.0.2.1, 198.51.100.2"))
        assert_limited(await via_proxy("198.51.100.2"), limit=2)


async def test_a_connection_from_an_untrusted_peer_is_counted_as_itself(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="oauth.ip=2/minute", trusted_proxies="10.0.0.1") as client:
        for n in range(3):
            response = await client.get("/oauth/nowhere", headers={"X-Forwarded-For": f"192.0.2.{n + 1}"})
        assert_limited(response, limit=2)


async def test_every_route_prefix_shares_one_bucket(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="login.ip=2/minute") as client:
        body = {"email": "ada@example.com", "password": "wrong-Password-1"}
        assert_not_limited(await client.post("/login", json=body))
        assert_not_limited(await client.post("/auth/login", json=body))
        assert_limited(await client.post("/api/auth/login", json=body), limit=2)
        assert_limited(await client.post("/api/v1/auth/login", json=body), limit=2)


async def test_on_means_the_defaults_and_off_means_none(make_client: ClientFactory) -> None:
    default = int(DEFAULTS["oauth.ip"].split("/")[0])
    async with make_client(rate_limits="on") as client:
        statuses = [(await client.get("/oauth/nowhere")).status_code for _ in range(default + 1)]
        assert 429 not in statuses[:default] and statuses[default] == 429
    async with make_client(rate_limits="off") as client:
        statuses = [(await client.get("/oauth/nowhere")).status_code for _ in range(default + 1)]
        assert 429 not in statuses
        # The sending limits are off too (one address, more mails than send.recipient allows).
        for _ in range(5):
            assert (await client.post("/password/forgot", json={"email": "ada@example.com"})).status_code == 202


async def test_an_override_changes_one_rule_and_keeps_the_others(make_client: ClientFactory) -> None:
    async with make_client(rate_limits="oauth.ip=off, login.ip=1/minute") as client:
        body = {"email": "ada@example.com", "password": "wrong-Password-1"}
        assert_not_limited(await client.post("/login", json=body))
        assert_limited(await client.post("/login", json=body), limit=1)
        for _ in range(int(DEFAULTS["oauth.ip"].split("/")[0]) + 1):
            assert_not_limited(await client.get("/oauth/nowhere"))


# --- AUTHGATE_RATE_LIMITS and AUTHGATE_SMS_DAILY_BUDGET, parsed ----------------------------------


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, jwt_secret=TEST_SECRET, **values)  # type: ignore[call-arg]


def test_overrides_parse() -> None:
    rules = parse_rules(" login.ip = 20/minute , oauth.ip=off, send.recipient=3/10 minutes;10/day ")
    assert [(i.amount, i.get_expiry()) for i in rules["login.ip"]] == [(20, 60)]
    assert "oauth.ip" not in rules
    assert [(i.amount, i.get_expiry()) for i in rules["send.recipient"]] == [(3, 600), (10, 86_400)]
    untouched = parse_rules("on")
    assert rules["register.ip"] == untouched["register.ip"]
    assert set(untouched) == set(DEFAULTS)
    assert parse_rules("OFF") == {} and parse_rules("") == untouched


@pytest.mark.parametrize(
    "value",
    ["login.ip=lots", "nosuch.rule=1/minute", "login.ip", "login.ip=0/minute", "sms.global=5/day", "login.ip="],
)
def test_bad_overrides_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"login\.ip|nosuch|sms\.global"):
        parse_rules(value)


def test_the_sms_budget_is_a_daily_rule_that_holds_with_rate_limits_off() -> None:
    rules = settings(rate_limits="off", sms_daily_budget=5).rate_limit_rules
    assert list(rules) == [SMS_BUDGET]
    assert [(i.amount, i.get_expiry()) for i in rules[SMS_BUDGET]] == [(5, 86_400)]
    assert SMS_BUDGET not in settings(sms_daily_budget=0).rate_limit_rules  # 0: no budget


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"AUTHGATE_RATE_LIMITS": "login.ip=lots"}, "AUTHGATE_RATE_LIMITS"),
        ({"AUTHGATE_RATE_LIMITS": "nosuch.rule=1/minute"}, "AUTHGATE_RATE_LIMITS"),
        ({"AUTHGATE_SMS_DAILY_BUDGET": "-1"}, "AUTHGATE_SMS_DAILY_BUDGET"),
        ({"AUTHGATE_SMS_DAILY_BUDGET": "plenty"}, "AUTHGATE_SMS_DAILY_BUDGET"),
    ],
)
def test_bad_limits_stop_the_process_naming_the_variable(env: dict[str, str], name: str) -> None:
    assert_stops_naming({"JWT_SECRET": SECRET, **env}, name)
