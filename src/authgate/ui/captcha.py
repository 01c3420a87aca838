"""The CAPTCHA widget on the pages' forms that ask for one (sign in, register, forgot, magic
link), and the origins the pages' CSP must then allow. ALTCHA is solved by `/ui/static/captcha.js`
(same origin); the hosted providers' widgets load from their own origins."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.settings import Settings


@dataclass(frozen=True)
class Widget:
    provider: str
    script: str
    scripts: tuple[str, ...]  # CSP script-src
    frames: tuple[str, ...]  # CSP frame-src
    css_class: str


HOSTED = {
    "turnstile": Widget(
        "turnstile",
        "https://challenges.cloudflare.com/turnstile/v0/api.js",
        ("https://challenges.cloudflare.com",),
        ("https://challenges.cloudflare.com",),
        "cf-turnstile",
    ),
    "hcaptcha": Widget(
        "hcaptcha",
        "https://js.hcaptcha.com/1/api.js",
        ("https://js.hcaptcha.com", "https://*.hcaptcha.com"),
        ("https://*.hcaptcha.com",),
        "h-captcha",
    ),
    "recaptcha": Widget(
        "recaptcha",
        "https://www.google.com/recaptcha/api.js",
        ("https://www.google.com", "https://www.gstatic.com"),
        ("https://www.google.com",),
        "g-recaptcha",
    ),
}
ALTCHA = Widget("altcha", "/ui/static/captcha.js", (), (), "altcha")


def widget(settings: Settings) -> Widget | None:
    if settings.captcha_provider == "altcha":
        return ALTCHA
    return HOSTED.get(settings.captcha_provider)


def challenge_url(settings: Settings) -> str:
    return f"{settings.route_prefixes[0].rstrip('/')}/captcha/challenge"
