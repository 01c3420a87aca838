"""The rate-limit rules, their defaults, and `AUTHGATE_RATE_LIMITS`.

A rule is `<area>.<key>`: what is limited, and what the count is kept per (`ip`, the target
`identifier`, a message `recipient`, or `global`). The defaults below hold for a service of
any size; `AUTHGATE_RATE_LIMITS` is `on` (the defaults), `off` (no rate limits, for tests),
or a comma-separated list of overrides such as
`login.ip=20/minute, send.recipient=3/10 minutes;10/day, oauth.ip=off`
(each value in the syntax of the `limits` library; several limits separated by `;`)."""

from __future__ import annotations

from limits import RateLimitItem, RateLimitItemPerDay, parse_many

DEFAULTS: dict[str, str] = {
    # Requests, per client address (and per target identifier where the body names one).
    "register.ip": "10/minute;50/hour",
    "login.ip": "30/minute;300/hour",
    "login.identifier": "10/minute;100/hour",
    "mfa.ip": "30/minute",  # the second step of a sign-in (/mfa/verify, /mfa/passkey/options), /mfa/recovery-codes
    "passkey.ip": "30/minute",  # passkey sign-in (/passkeys/login/options and /verify)
    "otp_verify.ip": "30/minute",
    "otp_verify.identifier": "10/minute",
    "otp_send.ip": "10/minute;50/hour",
    "password_forgot.ip": "10/minute;50/hour",
    "magic_link.ip": "10/minute;50/hour",
    "email_verify.ip": "10/minute;50/hour",  # asking for a verification mail
    "link.ip": "30/minute",  # following an emailed link, posting a reset's new password, exchanging an app's code
    "oauth.ip": "30/minute",  # starting a sign-in with a provider
    "captcha.ip": "30/minute",  # ALTCHA challenges
    # The OpenID provider's token, revocation and introspection endpoints: an app's backend asks
    # for many users from one address, so these are wider.
    "oauth2_token.ip": "600/minute",
    "oauth2_token.client": "1200/minute",
    # Messages sent (codes, links, reset mails), per recipient, whoever asks.
    "send.recipient": "3/minute;10/hour;20/day",
}
# Every SMS authgate sends, on all nodes together: what SMS pumping could cost. Set by
# AUTHGATE_SMS_DAILY_BUDGET, not by the rules above, so that it holds with rate limits off.
SMS_BUDGET = "sms.global"

OFF = "off"


def sms_budget(per_day: int) -> dict[str, tuple[RateLimitItem, ...]]:
    return {SMS_BUDGET: (RateLimitItemPerDay(per_day),)} if per_day > 0 else {}


def parse_rules(value: str) -> dict[str, tuple[RateLimitItem, ...]]:
    """The rules in force for an `AUTHGATE_RATE_LIMITS` value (ValueError naming the bad entry)."""
    text = value.strip()
    if text.lower() == OFF:
        return {}
    chosen = dict(DEFAULTS)
    if text.lower() not in {"", "on"}:
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            name, sep, limit = (part.strip() for part in entry.partition("="))
            if not sep or name not in DEFAULTS:
                raise ValueError(f"{entry!r}: expected <rule>=<limit>, with a rule among {', '.join(DEFAULTS)}")
            chosen[name] = limit
    rules: dict[str, tuple[RateLimitItem, ...]] = {}
    for name, limit in chosen.items():
        if limit.lower() == OFF:
            continue
        try:
            items = tuple(parse_many(limit))
        except ValueError:
            raise ValueError(f"{name}={limit!r} is not a limit such as 10/minute or 5 per 10 minutes") from None
        if not items or any(item.amount < 1 for item in items):
            raise ValueError(f"{name}={limit!r} is not a limit such as 10/minute or 5 per 10 minutes")
        rules[name] = items
    return rules
