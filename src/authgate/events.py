"""The events webhook subscribers can ask for. Every `tx.emit(...)` names one of these (the
unit of work refuses any other), so the catalogue a subscriber reads is the one we send."""

from __future__ import annotations

EVERY = "*"  # a subscription to every event, present and future

EVENT_TYPES = frozenset(
    {
        "user.created",
        "user.updated",
        "user.deleted",
        "user.login",
        "user.login_failed",
        "user.locked",
        "user.unlocked",
        "session.revoked",
        "password.reset",
        "email.verified",
        "phone.verified",
        "mfa.enabled",
        "mfa.disabled",
        "oauth.linked",
        "oauth.unlinked",
        "passkey.added",
        "passkey.removed",
        "passkey.clone_suspected",
        "oauth2.authorized",
        "oauth2.consent_granted",
        "oauth2.consent_revoked",
    }
)


def wants(subscribed: list[str] | tuple[str, ...], event_type: str) -> bool:
    return EVERY in subscribed or event_type in subscribed
