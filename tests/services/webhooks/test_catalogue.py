"""The event catalogue is the one source: an event outside it cannot be emitted, and every
event in it is documented for subscribers."""

from __future__ import annotations

import httpx
import pytest

from authgate.events import EVENT_TYPES
from tests.support.app import runtime
from tests.support.paths import ROOT

DOCS = ROOT / "docs" / "webhooks.md"


async def test_an_event_outside_the_catalogue_cannot_be_emitted(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="catalogue"):
        async with runtime(client).uow() as tx:
            tx.emit("user.exploded", userId="x")


def test_every_event_is_documented() -> None:
    text = DOCS.read_text()
    missing = sorted(event for event in EVENT_TYPES if f"`{event}`" not in text)
    assert missing == []
