"""Abuse protection (docs/abuse-protection.md): account lockout, rate limits, the SMS budget and
the CAPTCHA."""

from __future__ import annotations

from functools import cached_property
from typing import Literal, Self

from limits import RateLimitItem
from pydantic import Field, model_validator

from authgate.abuse.rules import parse_rules, sms_budget
from authgate.settings.base import Section, field_error
from authgate.settings.types import BlankIsUnset, HttpsUrl, Lower, RateRules

CaptchaProvider = Literal["none", "turnstile", "hcaptcha", "recaptcha", "altcha"]
HOSTED_CAPTCHAS = ("turnstile", "hcaptcha", "recaptcha")  # verified by the provider, with its secret


class AbuseSettings(Section):
    lockout_threshold: int = Field(default=5, ge=1)
    """Failed checks of an account's secrets in a row before it is locked (docs/abuse-protection.md#account-lockout)."""
    lockout_seconds: int = Field(default=900, ge=1)
    """The first lock's length; each lock in a row doubles it, up to a day."""
    rate_limits: RateRules = "on"
    """`on` (the defaults), `off`, or rules to change, such as `login.ip=20/minute, oauth.ip=off`
    (docs/abuse-protection.md#rate-limits)."""
    sms_daily_budget: int = Field(default=1000, ge=0)
    """SMS sent in any 24 hours, all nodes together; over it, requests that would send one answer 429; holds with rate
    limits off; `0`: no budget."""
    captcha_provider: Lower[CaptchaProvider] = "none"
    """`turnstile`, `hcaptcha`, `recaptcha` or `altcha`: a CAPTCHA on register, login, password/forgot, login/magic and
    otp/send (docs/abuse-protection.md#captcha)."""
    captcha_secret: BlankIsUnset = Field(default=None, repr=False)
    """The provider's secret key, required for `turnstile`, `hcaptcha` and `recaptcha`; for `altcha`, the key that signs
    challenges (at least 32 characters; derived from `JWT_SECRET` when unset)."""
    captcha_site_key: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.-]*$")
    """The provider's public site key, for the widget on the hosted pages (`turnstile`, `hcaptcha`, `recaptcha`)."""
    captcha_verify_url: HttpsUrl = None  # the secret is posted there
    """Replaces the provider's siteverify address (a proxy, a compatible service); `https`, or plain `http` only on
    `localhost`, `127.0.0.1` and `::1`."""
    captcha_when: Lower[Literal["always", "suspicious"]] = "always"
    """`suspicious`: ask only from an address that recently failed sign-ins."""
    captcha_min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    """reCAPTCHA v3 answers scoring below this are refused (0 to 1)."""

    @model_validator(mode="after")
    def _check_abuse(self) -> Self:
        # The CAPTCHA secret goes with its provider.
        provider, secret = self.captcha_provider, self.captcha_secret
        if not secret and provider in HOSTED_CAPTCHAS:
            message = f"must be set: AUTHGATE_CAPTCHA_PROVIDER={provider} needs the provider's secret key"
            raise field_error("captcha_secret", message, secret)
        if secret and provider == "altcha" and len(secret) < 32:  # challenges show its HMACs: a short key is guessed
            raise field_error(
                "captcha_secret", "must be at least 32 characters: it is the key that signs ALTCHA challenges", secret
            )
        return self

    @cached_property
    def rate_limit_rules(self) -> dict[str, tuple[RateLimitItem, ...]]:
        return parse_rules(self.rate_limits) | sms_budget(self.sms_daily_budget)
