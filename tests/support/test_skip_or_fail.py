"""A missing PostgreSQL or Redis skips its cases on a laptop and fails them in CI, where a
skip would let a run without the service pass for green."""

from __future__ import annotations

import pytest

from tests.support.skip import skip_or_fail

REASON = "PostgreSQL not reachable at postgresql://postgres@127.0.0.1:5432/test: ConnectionRefusedError"


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CI": "TRUE"}, {"CI": "true", "PATH": "/usr/bin"}])
def test_in_ci_a_missing_service_fails_the_case(env: dict[str, str]) -> None:
    with pytest.raises(pytest.fail.Exception, match=REASON):
        skip_or_fail(REASON, env)


@pytest.mark.parametrize("env", [{}, {"CI": "false"}, {"CI": ""}, {"GITHUB_ACTIONS": "true"}])
def test_elsewhere_a_missing_service_skips_the_case(env: dict[str, str]) -> None:
    with pytest.raises(pytest.skip.Exception, match=REASON):
        skip_or_fail(REASON, env)


def test_the_real_environment_is_read_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        skip_or_fail(REASON)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        skip_or_fail(REASON)
