"""`python -m authgate.delivery [--limit N]`: print the newest outbox messages, bodies
included, for an operator running without SMTP or an SMS webhook (the log channel never
writes a body to the log; the sealed body stays in the outbox for this)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from authgate.delivery.outbox import open_payload
from authgate.security.crypto import SecretBox
from authgate.settings import ConfigError, Settings, load_settings
from authgate.storage.db import make_engine, make_sessionmaker
from authgate.storage.repositories import outbox as outbox_repo


async def render_recent(settings: Settings, limit: int) -> str:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            rows = await outbox_repo.recent(db, limit=limit)
    finally:
        await engine.dispose()
    box = SecretBox(settings.encryption_key or settings.jwt_secret)
    parts: list[str] = []
    for row in rows:
        head = f"[{row.created_at:%Y-%m-%d %H:%M:%S}] {row.status:<10} {row.channel:<5} {row.kind} -> {row.recipient}"
        if row.last_error:
            head += f"  (attempts {row.attempts}; last error: {row.last_error})"
        body = ""
        if row.payload is not None:
            try:
                message = open_payload(box, row)
                body = (f"Subject: {message.subject}\n" if message.subject else "") + message.text.strip()
            except ValueError:
                body = "(the body does not open with the configured key)"
        parts.append(head + ("\n" + "\n".join("    " + line for line in body.splitlines()) if body else ""))
    return "\n".join(parts) if parts else "The outbox is empty."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m authgate.delivery", description=__doc__)
    parser.add_argument("--limit", type=int, default=10, help="how many messages (newest first)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"authgate: configuration error: {exc}", file=sys.stderr)
        return 2
    print(asyncio.run(render_recent(settings, args.limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
