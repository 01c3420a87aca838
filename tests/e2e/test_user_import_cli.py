"""`authgate user import FILE` and `authgate user stats` as an operator runs them
(docs/guides/importing.md): the summary, the report of failed rows by line, the exit status,
a dry run that writes nothing, running the same file again, standard input, and the accounts
signing in on a real server afterwards."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.security.hashing.generators import bcrypt_hash, django
from tests.support.server import run_authgate, running_server

WRONG = "Not-The-Password-1"


def pw(n: int) -> str:
    return f"Old-Password-{n}-x"


def good_row(n: int, **extra: Any) -> dict[str, Any]:
    password = {"format": "bcrypt", "hash": bcrypt_hash(b"2b", pw(n))}
    return {"email": f"user{n}@example.com", "emailVerified": n % 5 != 0, "password": password, **extra}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def users_in(workdir: Path) -> int:
    with sqlite3.connect(workdir / "authgate.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM users").fetchone()[0])


def report_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def mixed_file(path: Path) -> tuple[Path, dict[int, str]]:
    """30 rows with blank lines among them, three of them bad; the bad ones by line number (from
    1, blank lines counted) and the code each fails with."""
    lines: list[str] = []
    bad: dict[int, str] = {}
    for n in range(27):
        if n in (3, 14):
            lines.append("")
        lines.append(json.dumps(good_row(n)))
        if n == 5:
            lines.append('{"email": "broken@example.com", "emailVerified": true')  # cut short
            bad[len(lines)] = "validation_failed"
        if n == 12:
            lines.append(json.dumps({**good_row(100), "email_verified": True}))
            bad[len(lines)] = "validation_failed"
        if n == 20:
            lines.append(json.dumps(good_row(7) | {"email": "USER7@example.com"}))
            bad[len(lines)] = "email_taken"
    return write_lines(path, lines), bad


def import_cli(workdir: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return run_authgate(workdir, "user", "import", *args, stdin=stdin, **env)


def test_a_file_with_bad_lines_imports_the_rest_reports_each_by_line_and_they_sign_in(
    tmp_path: Path, server_database: dict[str, str]
) -> None:
    """On each database: exit 1, the summary, one report line per failed row numbered as an
    editor numbers the file, and the imported accounts open with their old passwords."""
    source, bad = mixed_file(tmp_path / "users.jsonl")
    report = tmp_path / "failed.jsonl"
    result = import_cli(tmp_path, str(source), "--report", str(report), **server_database)
    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == "27 created, 3 failed, 6 unverified (30 lines)"
    assert result.stderr == ""  # the failures went to the report
    failed = report_of(report)
    assert {r["line"]: r["code"] for r in failed} == bad
    by_line = {r["line"]: r for r in failed}
    unknown = next(r for r in failed if r.get("errors"))
    assert [e["field"] for e in unknown["errors"]] == ["email_verified"]
    assert by_line[min(bad)]["email"] is None  # the line that is not JSON
    for row in failed:
        assert set(row) <= {"line", "email", "code", "detail", "errors"}
        assert "$2b$" not in json.dumps(row)

    with running_server(tmp_path, **server_database) as base:
        for n in (0, 7, 13, 26):
            ok = httpx.post(f"{base}/login", json={"email": f"user{n}@example.com", "password": pw(n)})
            assert ok.status_code == 200, (n, ok.text)
            assert ok.json()["user"]["emailVerified"] is (n % 5 != 0)
        wrong = httpx.post(f"{base}/login", json={"email": "user7@example.com", "password": WRONG})
        assert wrong.status_code == 401
        absent = httpx.post(f"{base}/login", json={"email": "user100@example.com", "password": pw(100)})
        assert absent.status_code == 401


def test_a_dry_run_checks_every_row_and_writes_nothing(tmp_path: Path) -> None:
    source, _ = mixed_file(tmp_path / "users.jsonl")
    result = import_cli(tmp_path, str(source), "--dry-run", "--json", "--report", str(tmp_path / "dry.jsonl"))
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary == {"lines": 30, "valid": 27, "created": 0, "failed": 3, "unverified": 6, "dryRun": True}
    assert len(report_of(tmp_path / "dry.jsonl")) == 3
    assert users_in(tmp_path) == 0

    real = import_cli(tmp_path, str(source), "--json", "--report", str(tmp_path / "real.jsonl"))
    counts = json.loads(real.stdout)
    assert counts == {**summary, "created": 27, "dryRun": False}


def test_running_the_same_file_again_finishes_it_and_doubles_nothing(tmp_path: Path) -> None:
    """As after an interruption: the rows already in fail `email_taken`, the new ones go in."""
    first = write_lines(tmp_path / "users.jsonl", [json.dumps(good_row(n)) for n in range(10)])
    assert import_cli(tmp_path, str(first)).returncode == 0
    longer = write_lines(tmp_path / "users.jsonl", [json.dumps(good_row(n)) for n in range(15)])
    again = import_cli(tmp_path, str(longer), "--report", str(tmp_path / "again.jsonl"))
    assert again.returncode == 1, again.stderr
    assert again.stdout.strip() == "5 created, 10 failed, 1 unverified (15 lines)"
    assert [(r["line"], r["code"]) for r in report_of(tmp_path / "again.jsonl")] == [
        (n, "email_taken") for n in range(1, 11)
    ]
    assert users_in(tmp_path) == 15


def test_rows_from_standard_input_and_failures_on_standard_error(tmp_path: Path) -> None:
    rows = [json.dumps(good_row(n)) for n in range(3)] + ['{"email": "x@example.com", "role": "nope"}']
    result = import_cli(tmp_path, "-", stdin="\n".join(rows) + "\n")
    assert result.returncode == 1
    assert result.stdout.strip() == "3 created, 1 failed, 1 unverified (4 lines)"
    failures = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [(r["line"], r["code"], r["email"]) for r in failures] == [(4, "validation_failed", "x@example.com")]
    clean = import_cli(tmp_path, "-", stdin=json.dumps(good_row(9)) + "\n")
    assert clean.returncode == 0 and clean.stdout.strip() == "1 created, 0 failed, 0 unverified (1 lines)"
    assert users_in(tmp_path) == 4


def test_an_unreadable_file_or_report_or_bad_arguments_exit_2_and_import_nothing(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "users.jsonl", [json.dumps(good_row(1))])
    missing = import_cli(tmp_path, str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr
    unreadable = import_cli(tmp_path, str(tmp_path))  # a directory
    assert unreadable.returncode == 2, unreadable.stderr
    no_report = import_cli(tmp_path, str(source), "--report", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert no_report.returncode == 2, no_report.stderr
    assert run_authgate(tmp_path, "user", "import").returncode == 2  # no FILE
    assert import_cli(tmp_path, str(source), "--bogus").returncode == 2
    if (tmp_path / "authgate.db").exists():
        assert users_in(tmp_path) == 0


def test_progress_goes_to_standard_error_every_10000_rows(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "many.jsonl", [f'{{"email": "u{n}@example.com"}}' for n in range(10_001)])
    result = import_cli(tmp_path, str(source), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["valid"] == 10_001
    progress = [line for line in result.stderr.splitlines() if "rows/s" in line]
    assert len(progress) == 1 and progress[0].startswith("authgate: 10000 rows,"), result.stderr
    assert users_in(tmp_path) == 0


@pytest.mark.parametrize("as_json", [True, False])
def test_user_stats_counts_accounts_per_scheme_and_those_to_rehash(tmp_path: Path, as_json: bool) -> None:
    rows = [good_row(1), good_row(2), {"email": "nopass@example.com"}]
    rows.append({"email": "dj@example.com", "emailVerified": True,
                 "password": {"format": "django", "hash": django("pbkdf2_sha256", pw(3))}})  # fmt: skip
    assert import_cli(tmp_path, str(write_lines(tmp_path / "u.jsonl", [json.dumps(r) for r in rows]))).returncode == 0
    created = run_authgate(tmp_path, "user", "create", "--email", "root@example.com", "--password", "Admin-Pass-123")
    assert created.returncode == 0, created.stderr
    stats = run_authgate(tmp_path, "user", "stats", *(["--json"] if as_json else []))
    assert stats.returncode == 0, stats.stderr
    if as_json:
        summary = json.loads(stats.stdout)
        assert summary["users"] == 5 and summary["withoutPassword"] == 1 and summary["outdated"] == 3
        schemes = summary["passwordSchemes"]
        assert schemes.pop("bcrypt") == 2 and schemes.pop("pbkdf2-sha256") == 1
        assert list(schemes.values()) == [1]  # the account made here, in the configured scheme
    else:
        lines = stats.stdout.strip().splitlines()
        assert "bcrypt 2" in lines and "pbkdf2-sha256 1" in lines
        assert lines[-1].startswith("5 users, 1 without a password, 3 to be rehashed at their next sign-in")


def test_duplicates_across_batches_are_found_in_a_dry_run_and_in_a_real_one(tmp_path: Path) -> None:
    """2,500 rows are three batches: a row repeating one two batches earlier fails the same way
    whether the earlier one was written (a real run finds it in the database) or only checked
    (a dry run remembers it)."""
    hashed = {"format": "bcrypt", "hash": bcrypt_hash(b"2b", pw(1))}
    rows = [{"email": f"many{n}@example.com", "emailVerified": True, "password": hashed} for n in range(2500)]
    rows[2400] = {**rows[10], "email": "MANY10@example.com"}
    source = write_lines(tmp_path / "users.jsonl", [json.dumps(row) for row in rows])
    for args, created in ((["--dry-run"], 0), ([], 2499)):
        result = import_cli(tmp_path, str(source), "--json", "--report", str(tmp_path / "report.jsonl"), *args)
        assert result.returncode == 1, result.stderr
        assert json.loads(result.stdout)["created"] == created
        assert [(r["line"], r["code"]) for r in report_of(tmp_path / "report.jsonl")] == [(2401, "email_taken")]
    assert users_in(tmp_path) == 2499
