"""The delivery settings refuse bad values at start, naming the variable."""

from __future__ import annotations

import pytest

from authgate.settings import ConfigError, load_settings
from tests.support.app import TEST_SECRET


@pytest.mark.parametrize(
    ("field", "value", "env"),
    [
        ("redirect_allowlist", "https://app.example.com,ftp://files.example.com", "AUTHGATE_REDIRECT_ALLOWLIST"),
        ("redirect_allowlist", "app.example.com", "AUTHGATE_REDIRECT_ALLOWLIST"),
        ("redirect_allowlist", "https://user@app.example.com", "AUTHGATE_REDIRECT_ALLOWLIST"),
        ("sms_webhook_url", "not a url", "AUTHGATE_SMS_WEBHOOK_URL"),
        ("smtp_port", 0, "AUTHGATE_SMTP_PORT"),
        ("delivery_max_attempts", 0, "AUTHGATE_DELIVERY_MAX_ATTEMPTS"),
    ],
)
def test_bad_values_name_the_variable(field: str, value: object, env: str) -> None:
    with pytest.raises(ConfigError, match=env):
        load_settings(_env_file=None, jwt_secret=TEST_SECRET, **{field: value})


def test_defaults() -> None:
    settings = load_settings(_env_file=None, jwt_secret=TEST_SECRET, public_url="https://auth.example.com/x")
    assert settings.smtp_host is None and settings.sms_webhook_url is None
    assert settings.mail_from == "no-reply@auth.example.com"
    assert load_settings(_env_file=None, jwt_secret=TEST_SECRET, smtp_host="").smtp_host is None
