"""The verifier AUTHGATE_CAPTCHA_PROVIDER names, built once at start (None: no CAPTCHA)."""

from __future__ import annotations

import httpx

from authgate.captcha.altcha import AltchaVerifier, Claims, derived_key
from authgate.captcha.base import CaptchaVerifier
from authgate.captcha.siteverify import SITEVERIFY_URLS, SiteVerify
from authgate.settings import Settings


def asks_over_http(settings: Settings) -> bool:
    """Whether the configured provider is a hosted one, asked over HTTP (ALTCHA is checked here)."""
    return settings.captcha_provider in SITEVERIFY_URLS


def verifier_from_settings(
    settings: Settings, client: httpx.AsyncClient | None, claims: Claims
) -> CaptchaVerifier | None:
    """`client` is for the hosted providers' siteverify calls (None when none is configured)."""
    provider = settings.captcha_provider
    if provider == "none":
        return None
    if provider == "altcha":
        key = settings.captcha_secret or derived_key(settings.jwt_secret)
        return AltchaVerifier(hmac_key=key, claims=claims)
    assert settings.captcha_secret is not None  # settings refuse a hosted provider without it
    assert client is not None  # the runtime makes one whenever `asks_over_http`
    return SiteVerify(
        provider=provider,
        url=settings.captcha_verify_url or SITEVERIFY_URLS[provider],
        secret=settings.captcha_secret,
        client=client,
        min_score=settings.captcha_min_score if provider == "recaptcha" else None,
    )
