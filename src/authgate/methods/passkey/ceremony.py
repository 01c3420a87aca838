"""The WebAuthn ceremonies, through py_webauthn: options for the browser, and the checks of what
it sends back (type, challenge, origin, RP ID hash, user presence and verification, signature).
No CBOR or COSE is read here by hand.

py_webauthn (with cbor2, pyOpenSSL and pyasn1) is imported on the first ceremony, so a server
whose users never touch passkeys does not carry it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from authgate.settings import RelyingParty

TIMEOUT_MS = 300_000  # the challenge's 5 minutes
CHALLENGE_BYTES = 32
HANDLE_BYTES = 32
ALGORITHMS = (-7, -8, -257)  # ES256, EdDSA, RS256
TRANSPORTS = frozenset({"ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"})


class CeremonyFailed(Exception):
    """What the browser sent fails a check; the message names the check (for a developer)."""


@dataclass(frozen=True)
class Descriptor:
    """A passkey named in options: its credential id (base64url) and transport hints."""

    credential_id: str
    transports: tuple[str, ...]


@dataclass(frozen=True)
class Registered:
    credential_id: str  # base64url
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    transports: tuple[str, ...]


@dataclass(frozen=True)
class Asserted:
    """A verified assertion. The counter is checked by the caller (`clone_suspected`)."""

    sign_count: int
    backup_eligible: bool
    backed_up: bool


def new_challenge() -> bytes:
    return secrets.token_bytes(CHALLENGE_BYTES)


def new_handle() -> str:
    from webauthn.helpers import bytes_to_base64url

    return bytes_to_base64url(secrets.token_bytes(HANDLE_BYTES))


def credential_id_of(credential: dict[str, Any]) -> str | None:
    """The credential id the browser names (base64url text), if it is one."""
    value = credential.get("id")
    return value if isinstance(value, str) and 0 < len(value) <= 1400 else None


def user_handle_of(credential: dict[str, Any]) -> str | None:
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    return handle if isinstance(handle, str) and handle else None


def _descriptors(passkeys: list[Descriptor]) -> list[Any]:
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(p.credential_id),
            transports=[AuthenticatorTransport(t) for t in p.transports if t in TRANSPORTS],
        )
        for p in passkeys
    ]


def _as_dict(options: Any) -> dict[str, Any]:
    from webauthn import options_to_json

    answer: dict[str, Any] = orjson.loads(options_to_json(options))
    return answer


def registration_options(
    rp: RelyingParty,
    *,
    rp_name: str,
    handle: str,
    user_name: str,
    display_name: str,
    existing: list[Descriptor],
    challenge: bytes,
) -> dict[str, Any]:
    """`PublicKeyCredentialCreationOptionsJSON`: a discoverable, user-verified credential, no attestation."""
    from webauthn import generate_registration_options
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.cose import COSEAlgorithmIdentifier
    from webauthn.helpers.structs import (
        AttestationConveyancePreference,
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp_name,
        user_id=base64url_to_bytes(handle),
        user_name=user_name,
        user_display_name=display_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
        supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in ALGORITHMS],
    )
    return _as_dict(options)


def authentication_options(
    rp: RelyingParty, *, allowed: list[Descriptor], challenge: bytes, user_verification: bool
) -> dict[str, Any]:
    """`PublicKeyCredentialRequestOptionsJSON`; `allowed` empty for discoverable credentials."""
    from webauthn import generate_authentication_options
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allowed),
        user_verification=(
            UserVerificationRequirement.REQUIRED if user_verification else UserVerificationRequirement.DISCOURAGED
        ),
    )
    return _as_dict(options)


def check_registration(rp: RelyingParty, credential: dict[str, Any], *, challenge: bytes) -> Registered:
    """The new credential, if the attestation passes every check (user verification included)."""
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url, parse_registration_credential_json
    from webauthn.helpers.cose import COSEAlgorithmIdentifier
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import CredentialDeviceType

    try:
        parsed = parse_registration_credential_json(orjson.dumps(credential).decode())
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            require_user_presence=True,
            require_user_verification=True,
            supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in ALGORITHMS],
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise CeremonyFailed(_reason(exc)) from None
    given = [t.value for t in parsed.response.transports or ()]
    transports = tuple(t for i, t in enumerate(given) if t in TRANSPORTS and t not in given[:i])
    return Registered(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
        transports=transports,
    )


def check_assertion(
    rp: RelyingParty, credential: dict[str, Any], *, challenge: bytes, public_key: bytes, user_verification: bool
) -> Asserted:
    """The assertion's counter and backup flags, if it passes every check but the counter's."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import CredentialDeviceType

    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            # Zero: the library then skips its counter check, which `signin.clone_suspected`
            # makes, after the signature has proved the assertion genuine, to audit it.
            credential_current_sign_count=0,
            require_user_verification=user_verification,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise CeremonyFailed(_reason(exc)) from None
    return Asserted(
        sign_count=verified.new_sign_count,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )


def _reason(exc: Exception) -> str:
    from webauthn.helpers.exceptions import WebAuthnException

    if isinstance(exc, WebAuthnException) and str(exc):
        return str(exc).split(". See __cause__")[0]
    return "The credential is malformed."
