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
        ({"JWT_SECRET": SECRET, "AUTHGATE_PASSWORD_HASH": "scrypt"}, "AUTHGATE_PASSWORD_HASH"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_ARGON2_MEMORY_KIB": "19455"}, "AUTHGATE_ARGON2_MEMORY_KIB"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_ARGON2_MEMORY_KIB": "262145"}, "AUTHGATE_ARGON2_MEMORY_KIB"),
        (  # one pass needs OWASP's 46 MiB
            {"JWT_SECRET": SECRET, "AUTHGATE_ARGON2_TIME_COST": "1", "AUTHGATE_ARGON2_MEMORY_KIB": "47103"},
            "AUTHGATE_ARGON2_MEMORY_KIB",
        ),
        (  # memory x passes within what another authgate imports
            {"JWT_SECRET": SECRET, "AUTHGATE_ARGON2_TIME_COST": "5", "AUTHGATE_ARGON2_MEMORY_KIB": "262144"},
            "AUTHGATE_ARGON2_MEMORY_KIB",
        ),
        ({"JWT_SECRET": SECRET, "AUTHGATE_ARGON2_TIME_COST": "17"}, "AUTHGATE_ARGON2_TIME_COST"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_ARGON2_PARALLELISM": "0"}, "AUTHGATE_ARGON2_PARALLELISM"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_UI_PRODUCT_NAME": ""}, "AUTHGATE_UI_PRODUCT_NAME"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_UI_IDENTIFIER": "phone"}, "AUTHGATE_UI_IDENTIFIER"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_UI_LOCALES": "en,english"}, "AUTHGATE_UI_LOCALES"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_UI_LOCALES": ","}, "AUTHGATE_UI_LOCALES"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_TEMPLATES_DIR": "/dev/null"}, "AUTHGATE_TEMPLATES_DIR"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_TEMPLATES_DIR": "/nonexistent/theme"}, "AUTHGATE_TEMPLATES_DIR"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_REAUTH_MAX_AGE_SECONDS": "-1"}, "AUTHGATE_REAUTH_MAX_AGE_SECONDS"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_MAX_BODY_BYTES": "0"}, "AUTHGATE_MAX_BODY_BYTES"),
        ({"JWT_SECRET": SECRET, "AUTHGATE_MAX_BODY_BYTES": "-1"}, "AUTHGATE_MAX_BODY_BYTES"),
    ],
)
def test_bad_configuration_stops_the_process_naming_the_variable(env: dict[str, str], name: str) -> None:
    assert_stops_naming(env, name)


@pytest.mark.parametrize("name", ["A", "x" * 60, "Acme ID · Zürich", "株式会社 ID"])
def test_a_product_name_of_1_to_60_printable_characters_is_taken(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("AUTHGATE_UI_PRODUCT_NAME", name)
    assert load_settings(_env_file=None).ui_product_name == name


@pytest.mark.parametrize(
    "name",
    ["", "x" * 61, "Acme\tID", "Acme\x85ID", "Acme \u202eDI", "Acme\u200bID"],
    ids=["empty", "61", "tab", "C1-NEL", "RLO", "zero-width-space"],
)
def test_a_product_name_with_control_or_format_characters_or_of_another_length_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("AUTHGATE_UI_PRODUCT_NAME", name)
    with pytest.raises(ConfigError, match="AUTHGATE_UI_PRODUCT_NAME"):
        load_settings(_env_file=None)


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


def test_argon2_settings_at_their_bounds_start() -> None:
    for env in (
        {"AUTHGATE_ARGON2_TIME_COST": "1", "AUTHGATE_ARGON2_MEMORY_KIB": "47104"},
        {"AUTHGATE_ARGON2_TIME_COST": "4", "AUTHGATE_ARGON2_MEMORY_KIB": "262144"},
        {"AUTHGATE_ARGON2_TIME_COST": "16", "AUTHGATE_ARGON2_MEMORY_KIB": "65536", "AUTHGATE_ARGON2_PARALLELISM": "16"},
    ):
        settings = load_settings(
            _env_file=None,
            jwt_secret=SECRET,
            password_hash="ARGON2ID",
            **{k.removeprefix("AUTHGATE_").lower(): int(v) for k, v in env.items()},
        )
        assert settings.password_hash == "argon2id"


@pytest.mark.parametrize(
    ("rounds", "warned"), [(4, "below 10"), (9, "below 10"), (10, None), (15, None), (16, "above 15")]
)
def test_the_start_warns_of_a_bcrypt_cost_outside_10_to_15(rounds: int, warned: str | None) -> None:
    warning = load_settings(_env_file=None, jwt_secret=SECRET, bcrypt_rounds=rounds).password_hash_warning
    assert (warning is None) if warned is None else (warned in (warning or ""))
