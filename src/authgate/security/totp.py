"""TOTP per RFC 6238 (SHA-1, 6 digits, 30-second steps) on top of pyotp, and its QR code.

Pure: the caller passes the time. `matching_step` says which step a code belongs to, so the
service can store the last accepted step and refuse a replay with a conditional UPDATE.

pyotp and segno (about 1 MB together) are imported on first use: a worker whose users never
enrol an authenticator never loads them (tests/runtime/test_footprint.py).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyotp

DIGITS = 6
PERIOD = 30
WINDOW = 1  # steps accepted either side of now: tolerates 30 s of clock drift


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226 recommends at least 128)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")  # 20 bytes: 32 characters, no padding


def normalize_secret(secret: str) -> str:
    return "".join(secret.split()).upper().rstrip("=")


def normalize_code(code: str) -> str:
    return "".join(code.split())


def otpauth_url(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://totp/...` URL authenticator apps read (Key Uri Format)."""
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_url(url: str) -> str:
    """A `data:image/svg+xml` URL of the QR code for `url`, to put straight into an <img>."""
    import segno  # on the first enrolment (see the module's docstring)

    data_uri: str = segno.make(url, error="m").svg_data_uri(scale=4, border=2)
    return data_uri


def step_at(now: float) -> int:
    return int(now // PERIOD)


def code_at_step(secret: str, step: int) -> str:
    return str(_totp(secret).generate_otp(step))


def _totp(secret: str) -> pyotp.TOTP:
    import pyotp  # on first use (see the module's docstring)

    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)


def matching_step(secret: str, code: str, *, now: float, window: int = WINDOW) -> int | None:
    """The time step whose code equals `code` within ±`window` steps of `now`, else None.

    Every candidate is compared in constant time, and all of them are computed, so the time
    taken does not tell which step (if any) matched."""
    code = normalize_code(code)
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    current = step_at(now)
    found: int | None = None
    for step in range(current - window, current + window + 1):
        if hmac.compare_digest(code_at_step(secret, step), code) and found is None:
            found = step
    return found
