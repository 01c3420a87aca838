"""The messages register's options ask for (verifyEmail, sendResetEmail, sendEmail, sendSms),
queued in the registration's own transaction: if the account exists, so do its messages.
The sending limits count a registration as one message to the address (however many of
the mail options it sets: a cooldown of one per minute must not make registering impossible)
and one to the phone; over a limit, the registration fails with 429 and rolls back, leaving
neither account nor message."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.delivery.base import EMAIL, SMS
from authgate.services import email_links, one_time_codes
from authgate.services.outbound import allow_message, message_row
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
    verify = welcome.verify_email and not user.email_verified
    if verify or welcome.reset_email or welcome.welcome_email:
        mail = await allow_message(rt, channel=EMAIL, to=user.email)
        if verify:
            await email_links.queue_link(tx, rt, user=user, address=user.email, purpose=VERIFY_EMAIL, allowed=mail)
        if welcome.reset_email:
            await email_links.queue_link(tx, rt, user=user, address=user.email, purpose=RESET_PASSWORD, allowed=mail)
        if welcome.welcome_email:
            message = message_row(
                rt, allowed=mail, kind="welcome", channel=EMAIL, to=user.email, expires_at=None, email=user.email
            )
            await outbox_repo.add(tx.db, row=message)
            tx.on_commit(rt.courier.poke)
    if welcome.sms_code and user.phone:
        text = await allow_message(rt, channel=SMS, to=user.phone)
        await one_time_codes.queue_code(
            tx, rt, user=user, channel=SMS, to=user.phone, purpose=one_time_codes.VERIFY, allowed=text
        )
