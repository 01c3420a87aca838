"""Magic links: an emailed link that signs in (a first factor through the mailbox).

Issuing links is `services/email_links.py`; this module is what the gate asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.methods.base import EMAIL, Proof
from authgate.security.tokens import digest
from authgate.storage.models import utcnow
from authgate.storage.models.one_time import MAGIC_LINK
from authgate.storage.repositories import one_time as one_time_repo

if TYPE_CHECKING:
    from authgate.storage.models import OneTimeSecret
    from authgate.storage.uow import UnitOfWork


class LinkMethod:
    name = "link"
    first_factor = True
    second_factor = False
    proof = Proof(method="link", amr="email_link", channel=EMAIL)


LINK = LinkMethod()


async def consume(tx: UnitOfWork, *, token: str) -> OneTimeSecret | None:
    """Use the magic link up; the row for the one of any concurrent clicks that wins."""
    return await one_time_repo.consume_by_digest(tx.db, purpose=MAGIC_LINK, digest=digest(token), now=utcnow())
