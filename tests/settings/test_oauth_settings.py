"""Sign-in providers come from `AUTHGATE_OAUTH_<NAME>_*` (environment over `.env`), and a bad
one stops the process with a line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from authgate.settings import ConfigError, load_settings
from tests.support.settings import SECRET, assert_stops_naming


def test_providers_are_collected_from_the_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("AUTHGATE_OAUTH_GITHUB_CLIENT_ID", "gh-id")
    monkeypatch.setenv("AUTHGATE_OAUTH_GITHUB_CLIENT_SECRET", "gh-secret")
    monkeypatch.setenv("AUTHGATE_OAUTH_MY_IDP_CLIENT_ID", "from-env")
    monkeypatch.setenv("AUTHGATE_OAUTH_AUTO_LINK", "true")
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "AUTHGATE_OAUTH_MY_IDP_CLIENT_ID=from-file\n"
        "AUTHGATE_OAUTH_MY_IDP_CLIENT_SECRET=idp-secret\n"
        "AUTHGATE_OAUTH_MY_IDP_ISSUER=https://idp.example.com/realms/main\n"
        "AUTHGATE_OAUTH_MY_IDP_SCOPES=openid email, profile\n"
    )
    settings = load_settings(_env_file=str(dotenv))
    assert set(settings.oauth_providers) == {"github", "my-idp"}
    idp = settings.oauth_providers["my-idp"]
    assert idp.client_id == "from-env"  # the environment wins over the file
    assert idp.issuer == "https://idp.example.com/realms/main"
    assert idp.scopes == ["openid", "email", "profile"]
    assert settings.oauth_auto_link is True
    assert "idp-secret" not in repr(settings)  # a client secret never shows in a repr or a log


def test_no_provider_is_configured_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    settings = load_settings(_env_file=None)
    assert settings.oauth_providers == {}
    assert settings.oauth_auto_link is False


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        # a client secret is required
        (
            {"AUTHGATE_OAUTH_ACME_CLIENT_ID": "x", "AUTHGATE_OAUTH_ACME_ISSUER": "https://a.example"},
            "AUTHGATE_OAUTH_ACME_CLIENT_SECRET",
        ),
        # plain http only on loopback
        (
            {
                "AUTHGATE_OAUTH_ACME_CLIENT_ID": "x",
                "AUTHGATE_OAUTH_ACME_CLIENT_SECRET": "y",
                "AUTHGATE_OAUTH_ACME_ISSUER": "http://idp.example.com",
            },
            "AUTHGATE_OAUTH_ACME_ISSUER",
        ),
        # a provider that is neither OpenID Connect nor fully described
        (
            {
                "AUTHGATE_OAUTH_ACME_CLIENT_ID": "x",
                "AUTHGATE_OAUTH_ACME_CLIENT_SECRET": "y",
                "AUTHGATE_OAUTH_ACME_TOKEN_URL": "https://a.example/token",
            },
            "AUTHGATE_OAUTH_ACME_ISSUER",
        ),
        # "link" is a path of its own
        (
            {
                "AUTHGATE_OAUTH_LINK_CLIENT_ID": "x",
                "AUTHGATE_OAUTH_LINK_CLIENT_SECRET": "y",
                "AUTHGATE_OAUTH_LINK_ISSUER": "https://a.example",
            },
            "AUTHGATE_OAUTH_LINK_*",
        ),
    ],
)
def test_a_bad_provider_stops_the_process_naming_the_variable(extra: dict[str, str], variable: str) -> None:
    assert_stops_naming({"JWT_SECRET": SECRET, **extra}, variable)


def test_loopback_issuers_may_use_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    for host in ("localhost", "127.0.0.1", "[::1]"):
        monkeypatch.setenv("AUTHGATE_OAUTH_DEV_CLIENT_ID", "x")
        monkeypatch.setenv("AUTHGATE_OAUTH_DEV_CLIENT_SECRET", "y")
        monkeypatch.setenv("AUTHGATE_OAUTH_DEV_ISSUER", f"http://{host}:9400")
        assert load_settings(_env_file=None).oauth_providers["dev"].issuer == f"http://{host}:9400"


def test_load_settings_names_the_provider_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("AUTHGATE_OAUTH_MY_IDP_CLIENT_ID", "x")
    with pytest.raises(ConfigError, match="AUTHGATE_OAUTH_MY_IDP_CLIENT_SECRET is required"):
        load_settings(_env_file=None)
