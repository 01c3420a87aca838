"""The software authenticator of tests/support/webauthn.py against py_webauthn itself: what it
makes by default passes the library's checks, and each knob fails exactly the check it names.
Without these, a passkey test that sees a refusal could not tell the server's rule from a
malformed test credential."""

from __future__ import annotations

import json
from typing import Any

import pytest
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tests.support.webauthn import (
    OMIT,
    ORIGIN,
    Credential,
    InvalidStateError,
    NotAllowedError,
    SoftAuthenticator,
    new_key,
    unb64,
)

RP_ID = "testserver"
HANDLE = b"\x07" * 32


def creation_options(exclude: list[str] | None = None) -> dict[str, Any]:
    options = generate_registration_options(
        rp_id=RP_ID,
        rp_name="authgate",
        user_id=HANDLE,
        user_name="ada@example.com",
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=unb64(i)) for i in exclude or []],
    )
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def request_options(allow: list[str] | None = None) -> dict[str, Any]:
    options = generate_authentication_options(
        rp_id=RP_ID,
        allow_credentials=[PublicKeyCredentialDescriptor(id=unb64(i)) for i in allow or []],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def register(options: dict[str, Any], credential: dict[str, Any], **checks: Any) -> Any:
    return verify_registration_response(
        credential=credential,
        expected_challenge=unb64(options["challenge"]),
        expected_rp_id=RP_ID,
        expected_origin=[ORIGIN],
        require_user_verification=checks.pop("require_user_verification", True),
        **checks,
    )


def authenticate(
    options: dict[str, Any], assertion: dict[str, Any], credential: Credential, stored_count: int = 0, uv: bool = True
) -> Any:
    return verify_authentication_response(
        credential=assertion,
        expected_challenge=unb64(options["challenge"]),
        expected_rp_id=RP_ID,
        expected_origin=[ORIGIN],
        credential_public_key=credential.public_key_cose,
        credential_current_sign_count=stored_count,
        require_user_verification=uv,
    )


def enrolled(**authenticator: Any) -> tuple[SoftAuthenticator, Credential, Any]:
    device = SoftAuthenticator(**authenticator)
    options = creation_options()
    verified = register(options, device.create(options))
    return device, device.only, verified


# --- registration ----------------------------------------------------------------------------


def test_a_registration_is_accepted_and_describes_the_credential() -> None:
    device = SoftAuthenticator()
    options = creation_options()
    made = device.create(options)
    assert set(made) == {"id", "rawId", "type", "response", "authenticatorAttachment", "clientExtensionResults"}
    assert made["type"] == "public-key" and made["id"] == made["rawId"] and "=" not in made["id"]
    assert made["response"]["publicKeyAlgorithm"] == -7
    verified = register(options, made)
    held = device.only
    assert verified.credential_id == held.credential_id
    assert verified.credential_public_key == held.public_key_cose
    assert verified.sign_count == 0 and verified.fmt == "none"
    assert verified.aaguid == "00000000-0000-0000-0000-000000000000"
    assert verified.user_verified is True
    assert verified.credential_device_type == "single_device" and verified.credential_backed_up is False
    assert held.user_handle == HANDLE and held.rp_id == RP_ID and held.user_name == "ada@example.com"


def test_a_synced_credential_with_a_chosen_aaguid() -> None:
    aaguid = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
    _, _, verified = enrolled(backup_eligible=True, backed_up=True, aaguid=aaguid)
    assert verified.aaguid == aaguid
    assert verified.credential_device_type == "multi_device" and verified.credential_backed_up is True


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "RP ID hash"),
        ({"client_type": "webauthn.get"}, "client data type"),
        ({"challenge": "c2VlbiBiZWZvcmU"}, "challenge"),
        ({"user_verified": False}, "User verification"),
        ({"user_present": False}, "User presence"),
        ({"algorithm": -65535}, "alg"),
    ],
    ids=["origin", "rp-id", "type", "challenge", "uv", "up", "algorithm"],
)
def test_each_registration_knob_fails_its_check(knob: dict[str, Any], message: str) -> None:
    options = creation_options()
    with pytest.raises(InvalidRegistrationResponse, match=message):
        register(options, SoftAuthenticator().create(options, **knob))


def test_backed_up_without_backup_eligibility_is_an_impossible_state() -> None:
    options = creation_options()
    made = SoftAuthenticator().create(options, backup_eligible=False, backed_up=True)
    with pytest.raises(Exception, match="backed up"):
        register(options, made)


def test_a_registration_can_reuse_a_credential_id_and_honour_excluded_ones() -> None:
    device = SoftAuthenticator()
    first = device.create(creation_options())
    again = device.create(creation_options(), credential_id=device.only.credential_id, keep=False)
    assert again["id"] == first["id"]
    with pytest.raises(InvalidStateError):
        device.create(creation_options(exclude=[first["id"]]), honour_exclude=True)


# --- authentication ----------------------------------------------------------------------------


def test_an_assertion_is_accepted_and_the_counter_moves_on() -> None:
    device, held, _ = enrolled()
    options = request_options()
    assertion = device.get(options)
    assert set(assertion["response"]) == {"clientDataJSON", "authenticatorData", "signature", "userHandle"}
    assert unb64(assertion["response"]["userHandle"]) == HANDLE
    verified = authenticate(options, assertion, held)
    assert verified.new_sign_count == 1 and verified.user_verified is True
    second = request_options()
    assert authenticate(second, device.get(second), held, stored_count=1).new_sign_count == 2


def test_a_synced_credential_that_never_counts_is_accepted_at_zero() -> None:
    device, held, _ = enrolled(backup_eligible=True, backed_up=True, counter_step=0)
    for _ in range(2):
        options = request_options()
        verified = authenticate(options, device.get(options), held)
        assert verified.new_sign_count == 0 and verified.credential_device_type == "multi_device"


def test_allow_credentials_and_naming_choose_the_credential() -> None:
    device = SoftAuthenticator()
    device.create(creation_options())
    device.create(creation_options())
    first, second = device.held(RP_ID)
    with pytest.raises(NotAllowedError):
        device.get(request_options())
    assert device.get(request_options(allow=[second.id]))["id"] == second.id
    assert device.get(request_options(), credential=first.id)["id"] == first.id
    with pytest.raises(NotAllowedError):
        SoftAuthenticator().get(request_options())


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "RP ID hash"),
        ({"client_type": "webauthn.create"}, "client data type"),
        ({"challenge": "c2VlbiBiZWZvcmU"}, "challenge"),
        ({"user_verified": False}, "User verification"),
        ({"user_present": False}, "not present"),
        ({"forge": True}, "signature"),
        ({"sign_with": new_key()}, "signature"),
        ({"sign_count": 0}, "sign count"),
    ],
    ids=["origin", "rp-id", "type", "challenge", "uv", "up", "forged", "other-key", "counter"],
)
def test_each_assertion_knob_fails_its_check(knob: dict[str, Any], message: str) -> None:
    device, held, _ = enrolled()
    options = request_options()
    with pytest.raises(InvalidAuthenticationResponse, match=message):
        authenticate(options, device.get(options, **knob), held, stored_count=3 if "sign_count" in knob else 0)


def test_user_verification_off_passes_where_it_is_not_required() -> None:
    device, held, _ = enrolled()
    options = request_options()
    verified = authenticate(options, device.get(options, user_verified=False), held, uv=False)
    assert verified.user_verified is False


def test_a_clone_presents_a_counter_that_went_backwards() -> None:
    device, held, _ = enrolled()
    clone = SoftAuthenticator().adopt(held.clone())
    for _ in range(3):
        options = request_options()
        authenticate(options, device.get(options), held, stored_count=held.sign_count - 1)
    options = request_options()
    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        authenticate(options, SoftAuthenticator().get(options, credential=clone), held, stored_count=3)


def test_the_user_handle_id_and_backup_flags_are_the_servers_to_check() -> None:
    """py_webauthn checks none of these itself: the server compares them with what it stored."""
    device, held, _ = enrolled()
    options = request_options()
    other = device.get(options, user_handle=b"\x01" * 32)
    assert unb64(other["response"]["userHandle"]) == b"\x01" * 32
    authenticate(options, other, held, stored_count=0)
    options = request_options()
    omitted = device.get(options, user_handle=OMIT)
    assert "userHandle" not in omitted["response"]
    authenticate(options, omitted, held, stored_count=1)
    options = request_options()
    unknown = device.get(options, credential_id=b"\x02" * 32)
    assert unknown["id"] != held.id
    authenticate(options, unknown, held, stored_count=2)
    options = request_options()
    flipped = device.get(options, backup_eligible=True)
    assert authenticate(options, flipped, held, stored_count=3).credential_device_type == "multi_device"
