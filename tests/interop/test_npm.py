"""`npm_ci` without the registry: a newcomer offline gets a skip saying why, CI a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.npm import installed, npm_ci, pinned
from tests.support.paths import ROOT
from tests.support.server import free_port
from tests.support.skip import skip_or_fail


def _offline(folder: Path, ci: str) -> dict[str, str]:
    """npm's environment with a registry nobody answers at and an empty cache."""
    return {
        **os.environ,
        "npm_config_registry": f"http://127.0.0.1:{free_port()}/",
        "npm_config_cache": str(folder / "npm-cache"),
        "npm_config_fetch_retries": "0",
        "CI": ci,
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of tests/browser's npm project, without node_modules."""
    if shutil.which("npm") is None:
        skip_or_fail("npm is not installed: npm_ci is tested with it")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(ROOT / "tests" / "browser" / name, tmp_path / name)
    return tmp_path


def test_without_the_registry_a_newcomer_is_told_why_the_case_is_skipped(project: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match=r"cannot reach the npm registry \(.*ECONNREFUSED.*\): for a test"):
        npm_ci(project, "for a test", env=_offline(project, ""))
    assert set(installed(project).values()) == {None}


def test_without_the_registry_ci_fails(project: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="cannot reach the npm registry"):
        npm_ci(project, "for a test", env=_offline(project, "true"))


def test_what_the_lock_pins_is_read_from_it(project: Path) -> None:
    assert pinned(project) == {"axe-core": "4.14.1"}
