"""The configuration reference in docs/configuration.md is the Settings class, written out."""

from __future__ import annotations

import pytest

from authgate.settings import OAuthProviderSettings, Settings, env_name, load_settings
from authgate.settings_reference import default_text, render, rewrite, rows
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "configuration.md"


def test_docs_configuration_holds_the_current_table() -> None:
    document = DOC.read_text(encoding="utf-8")
    assert render() in document, "docs/configuration.md is stale: run `make docs`"


@pytest.mark.parametrize("model", [Settings, OAuthProviderSettings])
def test_every_setting_says_what_it_means(model: type[Settings] | type[OAuthProviderSettings]) -> None:
    undocumented = [name for name, field in model.model_fields.items() if not (field.description or "").strip()]
    assert undocumented == []


def test_every_variable_in_the_table_is_read_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each documented name really sets its field: a typo in a name would leave an operator's
    value silently unused."""
    variables = [variable for variable, _, _ in rows() if "<NAME>" not in variable]
    assert len(variables) == len(Settings.model_fields) - 1  # all but the per-provider group
    monkeypatch.setenv("AUTHGATE_LOG_LEVEL", "ERROR")
    monkeypatch.setenv(env_name("retention_batch_size"), "7")
    settings = load_settings(_env_file=None, jwt_secret="x" * 40)
    assert settings.log_level == "ERROR" and settings.retention_batch_size == 7
    assert "JWT_SECRET" in variables and "AUTHGATE_RETENTION_BATCH_SIZE" in variables


def test_defaults_are_written_as_an_operator_would_type_them() -> None:
    fields = Settings.model_fields
    assert default_text("jwt_secret", fields["jwt_secret"]) == "— (required)"
    assert default_text("cookie_secure", fields["cookie_secure"]) == "`true`"
    assert default_text("redis_url", fields["redis_url"]) == "unset"
    assert default_text("trusted_proxies", fields["trusted_proxies"]) == "empty"
    assert default_text("route_prefixes", fields["route_prefixes"]) == "`/,/auth,/api/auth,/api/v1/auth`"
    assert default_text("jwt_expiration_ms", fields["jwt_expiration_ms"]) == "`900000` (15 minutes)"
    assert default_text("shutdown_timeout_seconds", fields["shutdown_timeout_seconds"]) == "`30`"


def test_rewrite_replaces_only_the_table_and_refuses_a_document_without_markers() -> None:
    stale = "intro\n\n<!-- generated from the Settings class: `make docs` rewrites this table -->\nSTALE-ROW\n"
    stale += "<!-- end of the generated table -->\n\noutro\n"
    fresh = rewrite(stale)
    assert fresh.startswith("intro\n\n") and fresh.endswith("\n\noutro\n") and "STALE-ROW" not in fresh
    with pytest.raises(ValueError):
        rewrite("no markers here")
