"""Configuration is refused at start with a message that names the variable."""

from __future__ import annotations

import pytest

from authgate.settings import ConfigError, load_settings
from tests.support.settings import SECRET, assert_stops_naming


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({}, "JWT_SECRET"),
        ({"JWT_SECRET": "too-short"}, "JWT_SECRET"),
        ({"JWT_SECRET": SECRET, "JWT_EXPIRATION_MS": "-5"}, "JWT_EXPIRATION_MS"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_DATABASE_URL": "mysql://x"}, "AUTHGATE_DATABASE_URL"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_PUBLIC_URL": "not a url"}, "AUTHGATE_PUBLIC_URL"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_REFRESH_TOKEN_TTL_SECONDS": "-1"}, "AUTHGATE_REFRESH_TOKEN_TTL_SECONDS"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_BCRYPT_ROUNDS": "3"}, "AUTHGATE_BCRYPT_ROUNDS"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_REDIS_URL": "http://x"}, "AUTHGATE_REDIS_URL"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_ROUTE_PREFIXES": "api"}, "AUTHGATE_ROUTE_PREFIXES"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_JWT_ALGORITHM": "HS512"}, "AUTHGATE_JWT_ALGORITHM"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_JWT_ALGORITHM": "none"}, "AUTHGATE_JWT_ALGORITHM"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_KEY_GRACE_SECONDS": "-1"}, "AUTHGATE_KEY_GRACE_SECONDS"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_KEY_ROTATION_SECONDS": "soon"}, "AUTHGATE_KEY_ROTATION_SECONDS"),
    ],
)
def test_bad_configuration_stops_the_process_naming_the_variable(env: dict[str, str], name: str) -> None:
    assert_stops_naming(env, name)


def test_load_settings_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("JWT_EXPIRATION_MS", "60000")
    monkeypatch.setenv("AUTHGATE_ROUTE_PREFIXES", "/,/auth")
    settings = load_settings(_env_file=None)
    assert settings.access_ttl_seconds == 60
    assert settings.route_prefixes == ["", "/auth"]


def test_algorithm_accepts_any_letter_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    for spelling, canonical in (("eddsa", "EdDSA"), (" es256 ", "ES256"), ("Rs256", "RS256"), ("hs256", "HS256")):
        monkeypatch.setenv("AUTHGATE_JWT_ALGORITHM", spelling)
        assert load_settings(_env_file=None).jwt_algorithm == canonical


def test_missing_secret_raises_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings(_env_file=None)
