"""CAPTCHA in front of the routes bots abuse (docs/abuse-protection.md): one verifier per
deployment, chosen by AUTHGATE_CAPTCHA_PROVIDER (`build`), asked by the route guard
(http/abuse.py) through `gate.require`. Hosted providers are asked over HTTP (`siteverify`);
ALTCHA is checked here (`altcha`)."""

from __future__ import annotations

from authgate.captcha.base import CaptchaVerifier
from authgate.captcha.build import asks_over_http, verifier_from_settings
from authgate.captcha.suspicion import note_failure, require

__all__ = ["CaptchaVerifier", "asks_over_http", "note_failure", "require", "verifier_from_settings"]
