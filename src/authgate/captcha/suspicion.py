"""When a guarded request must bring a CAPTCHA, and the suspicion that `suspicious` mode runs on.

With AUTHGATE_CAPTCHA_WHEN=always every guarded request needs one. With `suspicious`, only
requests from an address that failed secret checks lately: `note_failure` (called where failed
checks are recorded, signin/gate.record_failure) counts them per address in the lockout's
shared state, and the SUSPICIOUS_AFTER-th failure marks the address for SUSPICIOUS_SECONDS,
doubling while it goes on (up to a day). IPv6 addresses count by their /64, which one client
usually holds whole. When the shared state does not answer, every request needs a CAPTCHA."""

from __future__ import annotations

from ipaddress import IPv6Address, ip_address, ip_network
from typing import TYPE_CHECKING, Protocol

from authgate.abuse.lockout import Lockout, Policy
from authgate.captcha.base import MAX_TOKEN_CHARS
from authgate.errors import captcha_failed
from authgate.observability.logging import get_logger

if TYPE_CHECKING:
    from authgate.captcha.base import CaptchaVerifier
    from authgate.settings import Settings

log = get_logger("authgate.captcha")

SUSPICIOUS_AFTER = 3  # failed secret checks from one address
SUSPICIOUS_SECONDS = 3600
POLICY = Policy(threshold=SUSPICIOUS_AFTER, base_seconds=SUSPICIOUS_SECONDS)


class CaptchaParts(Protocol):
    """What deciding on a CAPTCHA uses: the verifier, when to ask, and the lockout's shared state."""

    @property
    def captcha(self) -> CaptchaVerifier | None: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def lockout(self) -> Lockout: ...


def _subject(ip: str) -> str:
    try:
        address = ip_address(ip)
    except ValueError:
        return f"captcha-ip:{ip}"
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return f"captcha-ip:{address.ipv4_mapped}"
        return f"captcha-ip:{ip_network(f'{address}/64', strict=False)}"
    return f"captcha-ip:{address}"


def _counting(rt: CaptchaParts) -> bool:
    return rt.captcha is not None and rt.settings.captcha_when == "suspicious"


async def note_failure(rt: CaptchaParts, ip: str | None) -> None:
    """A secret check from `ip` failed. Never raises: the sign-in's own answer matters more."""
    if not _counting(rt) or not ip:
        return
    try:
        await rt.lockout.state.failed(_subject(ip), POLICY)
    except Exception as exc:
        log.warning("captcha_suspicion_unavailable", reason=type(exc).__name__)


async def suspicious(rt: CaptchaParts, ip: str | None) -> bool:
    if not ip:
        return True
    try:
        return await rt.lockout.state.locked_for(_subject(ip)) is not None
    except Exception as exc:
        log.warning("captcha_suspicion_unavailable", reason=type(exc).__name__)
        return True


async def require(rt: CaptchaParts, token: str | None, ip: str | None) -> None:
    """Pass, or raise `captcha_failed` (400): no token, or one the verifier refuses."""
    verifier = rt.captcha
    if verifier is None:
        return
    if rt.settings.captcha_when == "suspicious" and not await suspicious(rt, ip):
        return
    if not token or len(token) > MAX_TOKEN_CHARS or not await verifier.verify(token, ip):
        raise captcha_failed()
