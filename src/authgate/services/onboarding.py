"""The messages register's options ask for (seed 002: verifyEmail, sendResetEmail, sendEmail,
sendSms), queued after the account exists; sending never holds up the 201."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.delivery.base import SMS
from authgate.services import links, otp
from authgate.services.runtime import Runtime
from authgate.storage.models import User


@dataclass(frozen=True)
class Welcome:
    verify_email: bool = False  # a verification link
    reset_email: bool = False  # a reset link (for an account created without a password)
    welcome_email: bool = False  # a welcome note, nothing to click
    sms_code: bool = False  # a code that verifies the phone given at registration


async def after_register(rt: Runtime, *, user: User, welcome: Welcome) -> None:
    if welcome.verify_email and not user.email_verified:
        await links.send_verification(rt, user=user)
    if welcome.reset_email:
        await links.send_reset(rt, user=user)
    if welcome.welcome_email:
        await links.send_welcome(rt, user=user)
    if welcome.sms_code and user.phone:
        await otp.send_code(rt, channel=SMS, purpose=otp.VERIFY, destination=user.phone, caller=user)
