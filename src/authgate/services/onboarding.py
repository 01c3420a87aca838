"""The messages register's options ask for (verifyEmail, sendResetEmail, sendEmail, sendSms),
queued in the registration's own transaction: if the account exists, so do its messages."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.delivery.base import EMAIL, SMS
from authgate.services import email_links, one_time_codes
from authgate.services.outbound import message_row
from authgate.services.runtime import Runtime
from authgate.storage.models import User
from authgate.storage.models.one_time import RESET_PASSWORD, VERIFY_EMAIL
from authgate.storage.repositories import outbox as outbox_repo
from authgate.storage.uow import UnitOfWork


@dataclass(frozen=True)
class Welcome:
    verify_email: bool = False  # a verification link
    reset_email: bool = False  # a reset link (for an account created without a password)
    welcome_email: bool = False  # a welcome note, nothing to click
    sms_code: bool = False  # a code that verifies the phone given at registration


async def queue(tx: UnitOfWork, rt: Runtime, *, user: User, welcome: Welcome) -> None:
    if welcome.verify_email and not user.email_verified:
        await email_links.queue_link(tx, rt, user=user, address=user.email, purpose=VERIFY_EMAIL)
    if welcome.reset_email:
        await email_links.queue_link(tx, rt, user=user, address=user.email, purpose=RESET_PASSWORD)
    if welcome.welcome_email:
        message = message_row(rt, kind="welcome", channel=EMAIL, to=user.email, expires_at=None, email=user.email)
        await outbox_repo.add(tx.db, row=message)
        tx.on_commit(rt.courier.poke)
    if welcome.sms_code and user.phone:
        await one_time_codes.queue_code(tx, rt, user=user, channel=SMS, to=user.phone, purpose=one_time_codes.VERIFY)
