"""`authgate mail`: the outbox for development, without SMTP or an SMS webhook. Each message
on one line (when, channel, kind, recipient, and the link or code it carries), newest last;
`--follow` keeps printing new ones as they are queued. The log channel never writes a body to
the log; the sealed body stays in the outbox for this."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from authgate.delivery.outbox import open_payload
from authgate.security.crypto import SecretBox
from authgate.settings import Settings
from authgate.storage.db import make_engine, make_sessionmaker
from authgate.storage.models import OutboxMessage
from authgate.storage.models.outbox import SUPPRESSED
from authgate.storage.repositories import outbox as outbox_repo

FOLLOW_SECONDS = 1.0


def describe(box: SecretBox, row: OutboxMessage, *, body: bool = False) -> str:
    """One message: a line, and with `body` its subject and text indented below."""
    head = f"{row.created_at:%Y-%m-%d %H:%M:%S}  {row.channel:<5}  {row.kind:<15}  {row.recipient}"
    if row.status == SUPPRESSED:
        return f"{head}  (no such account: not sent)"
    if row.last_error:
        head += f"  (attempts {row.attempts}; last error: {row.last_error})"
    if row.payload is None:
        return f"{head}  ({row.status}; the body is no longer kept)"
    try:
        message = open_payload(box, row)
    except ValueError:
        return f"{head}  (the body does not open with the configured key)"
    line = f"{head}  {message.action or ''}".rstrip()
    if not body:
        return line
    text = (f"Subject: {message.subject}\n" if message.subject else "") + message.text.strip()
    return line + "\n" + "\n".join("    " + part for part in text.splitlines())


async def batches(settings: Settings, *, limit: int, follow: bool) -> AsyncIterator[list[OutboxMessage]]:
    """The newest `limit` messages, oldest first; then, with `follow`, each poll's new ones."""
    engine = make_engine(settings.database_url)
    seen: set[str] = set()
    window = limit  # the first look: the newest `limit`; later ones wider, so a burst between polls is not cut
    try:
        sessions = make_sessionmaker(engine)
        while True:
            async with sessions() as db:
                rows = await outbox_repo.recent(db, limit=window)
            window = max(limit, 100)
            fresh = [row for row in reversed(rows) if row.id not in seen]
            seen.update(row.id for row in fresh)
            yield fresh
            if not follow:
                return
            await asyncio.sleep(FOLLOW_SECONDS)
    finally:
        await engine.dispose()


async def show(settings: Settings, *, limit: int, follow: bool, body: bool) -> None:
    box = SecretBox(settings.encryption_key or settings.jwt_secret)
    first = True
    async for rows in batches(settings, limit=limit, follow=follow):
        if first and not rows:
            print("The outbox is empty." + (" Waiting for messages (Ctrl-C to stop)..." if follow else ""), flush=True)
        first = False
        for row in rows:
            print(describe(box, row, body=body), flush=True)
