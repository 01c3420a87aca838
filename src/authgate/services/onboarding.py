"""The messages register's options ask for (verifyEmail, sendResetEmail, sendEmail, sendSms),
queued in the registration's own transaction: if the account exists, so do its messages.
The sending limits count a registration as one message to the address (however many of
the mail options it sets: a cooldown of one per minute must not make registering impossible)
and one to the phone, before that transaction (`allow`: no round trip to Redis while the
database's write lock is held); over a limit, the registration fails with 429 and leaves
neither account nor message."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.core.parts import Parts
from authgate.delivery.base import EMAIL, SMS
from authgate.delivery.compose import Allowed, allow_message, message_row
from authgate.methods.code import flows as code_flows
from authgate.methods.link import flows as link_flows
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
    redirect_to: str | None = None  # where the verification link goes once used (already checked)


@dataclass(frozen=True)
class Allowances:
    """The messages `allow` counted: one to the address, one to the phone."""

    mail: Allowed | None = None
    text: Allowed | None = None


def _wants_mail(user: User, welcome: Welcome) -> bool:
    return (welcome.verify_email and not user.email_verified) or welcome.reset_email or welcome.welcome_email


async def allow(rt: Parts, *, user: User, welcome: Welcome) -> Allowances:
    """Count what `queue` will send against the sending limits (429 over one)."""
    mail = await allow_message(rt, channel=EMAIL, to=user.email) if _wants_mail(user, welcome) else None
    sms_wanted = welcome.sms_code and user.phone
    text = await allow_message(rt, channel=SMS, to=user.phone) if sms_wanted and user.phone else None
    return Allowances(mail=mail, text=text)


async def queue(tx: UnitOfWork, rt: Parts, *, user: User, welcome: Welcome, allowed: Allowances) -> None:
    verify = welcome.verify_email and not user.email_verified
    if (mail := allowed.mail) is not None:
        if verify:
            await link_flows.queue_link(
                tx,
                rt,
                user=user,
                address=user.email,
                purpose=VERIFY_EMAIL,
                allowed=mail,
                redirect_to=welcome.redirect_to,
            )
        if welcome.reset_email:
            await link_flows.queue_link(tx, rt, user=user, address=user.email, purpose=RESET_PASSWORD, allowed=mail)
        if welcome.welcome_email:
            message = message_row(
                rt, allowed=mail, kind="welcome", channel=EMAIL, to=user.email, expires_at=None, email=user.email
            )
            await outbox_repo.add(tx.db, row=message)
            tx.on_commit(rt.courier.poke)
    if (text := allowed.text) is not None and user.phone:
        await code_flows.queue_code(
            tx, rt, user=user, channel=SMS, to=user.phone, purpose=code_flows.VERIFY, allowed=text
        )
