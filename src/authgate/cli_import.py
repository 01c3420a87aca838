"""`authgate user import` and `authgate user stats`: moving users in with their password hashes,
and following their hashes to the configured scheme (docs/guides/importing.md).

The import streams: it reads a line at a time and hands rows to the importer, which writes a
batch at a time, so memory does not grow with the file. Rows committed before an interruption
stay; running the same file again finishes it (the rows already in fail `email_taken`)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import IO

import orjson

from authgate.runtime.root import Runtime
from authgate.services.admin import imports, password_stats
from authgate.settings import Settings

PROGRESS_EVERY = 10_000


def _failure_line(result: imports.RowResult) -> bytes:
    return orjson.dumps({"line": result.index, "email": result.email} | result.outcome()) + b"\n"


async def import_file(
    settings: Settings, lines: Iterable[bytes], *, dry_run: bool, report: IO[bytes], as_json: bool
) -> int:
    """Import the rows of `lines` (JSON objects, one per line); 0 when every row was valid, 1
    when some failed. Failures go to `report`, progress to stderr, the summary to stdout."""
    runtime = Runtime.build(settings)
    importer = imports.Importer(runtime, caller_caps=["*"], actor_id=None, dry_run=dry_run)
    started, read = time.perf_counter(), 0

    def settle(results: list[imports.RowResult]) -> None:
        for result in results:
            if result.status == "failed":
                report.write(_failure_line(result))

    try:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            read += 1
            try:
                row: object = orjson.loads(raw)
            except orjson.JSONDecodeError:
                row = None  # fails as any line that is not a JSON object
            settle(await importer.add(number, row))
            if read % PROGRESS_EVERY == 0:
                rate = read / (time.perf_counter() - started)
                print(f"authgate: {read} rows, {rate:.0f} rows/s, {importer.tally.failed} failed", file=sys.stderr)
        settle(await importer.finish())
    finally:
        report.flush()
        await runtime.close()
    tally = importer.tally
    if as_json:
        summary = {
            "lines": read,
            "valid": tally.valid,
            "created": tally.created,
            "failed": tally.failed,
            "unverified": tally.unverified,
            "dryRun": dry_run,
        }
        print(json.dumps(summary))
    elif dry_run:
        print(f"{tally.valid} valid, {tally.failed} failed, {tally.unverified} unverified ({read} lines; dry run)")
    else:
        print(f"{tally.created} created, {tally.failed} failed, {tally.unverified} unverified ({read} lines)")
    return 1 if tally.failed else 0


async def print_stats(settings: Settings, *, as_json: bool) -> int:
    runtime = Runtime.build(settings)
    try:
        stats = await password_stats.password_stats(runtime)
    finally:
        await runtime.close()
    if as_json:
        summary = {
            "users": stats.users,
            "withoutPassword": stats.without_password,
            "passwordSchemes": stats.schemes,
            "outdated": stats.outdated,
        }
        print(json.dumps(summary))
        return 0
    for scheme, count in stats.schemes.items():
        print(f"{scheme} {count}")
    print(
        f"{stats.users} users, {stats.without_password} without a password, "
        f"{stats.outdated} to be rehashed at their next sign-in ({runtime.hasher.policy.scheme} is configured)"
    )
    return 0
