"""What the audit trail and the webhook events say of a passkey: the same facts in each, the
passkey as `passkey` in the entry and `passkeyId` in the event (`userId` beside it). Here, in
the sign-in core, because claiming an account (`address.prove_address`) removes passkeys too."""

from __future__ import annotations

from typing import Any

from authgate.storage.uow import UnitOfWork


def record(tx: UnitOfWork, type: str, *, user_id: str, passkey_id: str, **data: Any) -> None:
    tx.audit(type, user_id=user_id, passkey=passkey_id, **data)
    tx.emit(type, userId=user_id, passkeyId=passkey_id, **data)


def removed(tx: UnitOfWork, *, user_id: str, passkey_ids: list[str], reason: str) -> None:
    """Each passkey removed: by its user, an administrator, or the claim of the account's address."""
    for passkey_id in passkey_ids:
        record(tx, "passkey.removed", user_id=user_id, passkey_id=passkey_id, reason=reason)
