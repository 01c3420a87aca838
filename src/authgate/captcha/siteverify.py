"""Turnstile, hCaptcha and reCAPTCHA: the token is checked by the provider's siteverify
endpoint, which also makes each token single-use. They share one protocol (a form POST of
`secret`, `response`, `remoteip`; a JSON reply with `success`), so one class serves all three.

Anything but a clear yes refuses: the provider down or slow, an error status, a reply that
is not the expected JSON. A CAPTCHA nobody could check must not let a bot through."""

from __future__ import annotations

import httpx

from authgate.observability.logging import get_logger

log = get_logger("authgate.captcha")

SITEVERIFY_URLS = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
    "recaptcha": "https://www.google.com/recaptcha/api/siteverify",
}
TIMEOUT = httpx.Timeout(5.0)  # a sign-in waits on this; a provider slower than that counts as down


class SiteVerify:
    """`min_score` is for reCAPTCHA v3, whose `score` runs from 0 (a bot) to 1 (a person).
    It stays None for hCaptcha, whose enterprise `score` means the opposite (risk)."""

    def __init__(
        self, *, provider: str, url: str, secret: str, client: httpx.AsyncClient, min_score: float | None = None
    ) -> None:
        self.provider = provider
        self.url = url
        self.secret = secret
        self.client = client
        self.min_score = min_score

    async def verify(self, token: str, ip: str | None) -> bool:
        form = {"secret": self.secret, "response": token}
        if ip:
            form["remoteip"] = ip
        try:
            reply = await self.client.post(self.url, data=form, timeout=TIMEOUT)
            reply.raise_for_status()
            answer = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("captcha_provider_unavailable", provider=self.provider, reason=type(exc).__name__)
            return False
        if not isinstance(answer, dict) or answer.get("success") is not True:
            codes = answer.get("error-codes") if isinstance(answer, dict) else None
            log.info("captcha_refused", provider=self.provider, error_codes=codes)
            return False
        return self._score_passes(answer.get("score"))

    def _score_passes(self, score: object) -> bool:
        if self.min_score is None or score is None:
            return True
        if isinstance(score, bool) or not isinstance(score, int | float) or not score >= self.min_score:  # NaN too
            log.info("captcha_refused", provider=self.provider, score=score)
            return False
        return True
