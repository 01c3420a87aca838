"""The pages' own words that come from Python rather than a template: the notices shown after a
redirect (named by a key in the URL, so no text ever travels in one) and the message of each
problem code. Marked with `N_` for the catalogue; templates translate them when they show them."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


NOTICES = {
    "password_changed": N_("Your password has been changed."),
    "password_reset": N_("Your password has been changed. Sign in with the new one."),
    "signed_out": N_("You have signed out."),
    "profile_saved": N_("Your details have been saved."),
    "verification_sent": N_("If the address needs verifying, a new link is on its way."),
    "mfa_disabled": N_("The authenticator app has been turned off."),
    "passkey_added": N_("The passkey has been added."),
    "passkey_renamed": N_("The passkey has been renamed."),
    "passkey_removed": N_("The passkey has been removed."),
    "session_ended": N_("The session has been signed out."),
    "sessions_ended": N_("Every other session has been signed out."),
    "linked": N_("The account has been linked."),
    "unlinked": N_("The account has been unlinked."),
    "role_changed": N_("Role changed."),
    "user_disabled": N_("Account disabled."),
    "user_enabled": N_("Account enabled."),
    "user_unlocked": N_("Account unlocked."),
    "user_sessions_ended": N_("Sessions signed out."),
    "user_mfa_reset": N_("Second factors removed."),
    "user_passkey_removed": N_("Passkey removed."),
    "user_reset_sent": N_("Password reset email sent."),
    "user_deleted": N_("Account deleted."),
    "email_verified": N_("Your email address is verified."),
    "code_sent": N_("A code is on its way."),
    "code_factor_on": N_("Codes by email or SMS are on."),
    "code_factor_off": N_("Codes by email or SMS have been turned off."),
    "app_revoked": N_("The app's access has been revoked."),
}

PROBLEMS = {
    "invalid_credentials": N_("The email or password is not right."),
    "invalid_mfa_code": N_("The code is not right, or it has been used already."),
    "invalid_token": N_("The link is not valid, was already used, or has expired."),
    "token_expired": N_("The link has expired."),
    "rate_limited": N_("Too many attempts. Wait a moment and try again."),
    "account_locked": N_("Too many failed attempts: the account is locked for a while. Try again later."),
    "account_disabled": N_("This account has been disabled."),
    "email_not_verified": N_("Verify your email address first: we have sent you a link."),
    "email_taken": N_("An account with this email address already exists."),
    "username_taken": N_("This username is taken."),
    "captcha_failed": N_("The CAPTCHA was not solved. Try again."),
    "forbidden": N_("You may not do this."),
    "not_found": N_("There is nothing here."),
    "conflict": N_("This cannot be done in the account's current state."),
    "last_sign_in_method": N_("This is the account's last way to sign in: add another one first."),
    "oauth_denied": N_("The sign-in with the provider was cancelled."),
    "oauth_failed": N_("The sign-in with the provider did not work. Try again."),
    "provider_unavailable": N_("The provider cannot be reached. Try again later."),
    "identity_not_linked": N_("No account is linked to this provider account. Sign in another way and link it."),
    "identity_taken": N_("This provider account is linked to another account."),
    "invalid_state": N_("The sign-in took too long or was started elsewhere. Try again."),
    "passkey_exists": N_("This passkey is already registered."),
    "passkey_limit": N_("This account has as many passkeys as it may have."),
    "reauthentication_required": N_("Confirm it is you to continue."),
    "validation_failed": N_("Some fields need attention."),
    "temporarily_unavailable": N_("The service is briefly unavailable. Try again in a moment."),
    "payload_too_large": N_("The form is too large."),
    "csrf": N_("This form has expired. Reload the page and try again."),
    "unsupported_media_type": N_("The form was not sent as a web form. Reload the page and try again."),
}


def notice_text(key: str | None) -> str | None:
    return NOTICES.get(key) if key else None


def problem_text(code: str | None) -> str | None:
    return PROBLEMS.get(code) if code else None
