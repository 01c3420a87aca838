"""CAPTCHA configuration that cannot work stops the service at start, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

import authgate
from authgate.settings import ConfigError, load_settings
from tests.support.settings import SECRET, assert_stops_naming

# The process under test imports this checkout's authgate, whatever is installed.
BASE = {"JWT_SECRET": SECRET, "PYTHONPATH": str(Path(authgate.__file__).resolve().parents[1])}


@pytest.mark.parametrize("provider", ["turnstile", "hcaptcha", "recaptcha"])
def test_hosted_provider_without_its_secret_stops_the_process(provider: str) -> None:
    assert_stops_naming({**BASE, "AUTHGATE_CAPTCHA_PROVIDER": provider}, "AUTHGATE_CAPTCHA_SECRET")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"AUTHGATE_CAPTCHA_PROVIDER": "recaptha"}, "AUTHGATE_CAPTCHA_PROVIDER"),
        (
            {"AUTHGATE_CAPTCHA_PROVIDER": "altcha", "AUTHGATE_CAPTCHA_VERIFY_URL": "siteverify"},
            "AUTHGATE_CAPTCHA_VERIFY_URL",
        ),
        (
            {
                "AUTHGATE_CAPTCHA_PROVIDER": "turnstile",
                "AUTHGATE_CAPTCHA_SECRET": "s",
                "AUTHGATE_CAPTCHA_VERIFY_URL": "ftp://x/y",
            },
            "AUTHGATE_CAPTCHA_VERIFY_URL",
        ),
        ({"AUTHGATE_CAPTCHA_PROVIDER": "altcha", "AUTHGATE_CAPTCHA_SECRET": "short"}, "AUTHGATE_CAPTCHA_SECRET"),
        ({"AUTHGATE_CAPTCHA_WHEN": "sometimes"}, "AUTHGATE_CAPTCHA_WHEN"),
        ({"AUTHGATE_CAPTCHA_MIN_SCORE": "2"}, "AUTHGATE_CAPTCHA_MIN_SCORE"),
    ],
)
def test_bad_captcha_configuration_stops_the_process(env: dict[str, str], name: str) -> None:
    assert_stops_naming({**BASE, **env}, name)


def test_provider_secret_would_leak_over_plain_http_to_another_host() -> None:
    with pytest.raises(ConfigError, match="AUTHGATE_CAPTCHA_VERIFY_URL"):
        load_settings(
            _env_file=None,
            jwt_secret=SECRET,
            captcha_provider="turnstile",
            captcha_secret="s",
            captcha_verify_url="http://verify.example.com/siteverify",
        )


def test_defaults_and_accepted_values() -> None:
    plain = load_settings(_env_file=None, jwt_secret=SECRET)
    assert (plain.captcha_provider, plain.captcha_when, plain.captcha_min_score) == ("none", "always", 0.5)
    altcha = load_settings(_env_file=None, jwt_secret=SECRET, captcha_provider="ALTCHA")  # no secret needed
    assert altcha.captcha_provider == "altcha" and altcha.captcha_secret is None
    local = load_settings(
        _env_file=None,
        jwt_secret=SECRET,
        captcha_provider="hcaptcha",
        captcha_secret="s",
        captcha_verify_url="http://127.0.0.1:9000/siteverify",
    )
    assert local.captcha_verify_url == "http://127.0.0.1:9000/siteverify"


def test_captcha_secret_stays_out_of_repr() -> None:
    settings = load_settings(
        _env_file=None, jwt_secret=SECRET, captcha_provider="turnstile", captcha_secret="0x-very-secret-key"
    )
    assert "0x-very-secret-key" not in repr(settings)
