"""A software WebAuthn authenticator and browser, for driving passkey endpoints without either.

`SoftAuthenticator` takes the `options` JSON an endpoint answers (creation or request options,
as `options_to_json` writes them) and returns what a browser's `credential.toJSON()` gives the
page: a registration (`attestationObject` of format "none", authenticator data with the attested
credential and its COSE EC2 / ES256 public key) or an assertion (authenticator data, an ECDSA
P-256 signature in DER over `authenticatorData || SHA-256(clientDataJSON)`, the user handle).

It keeps its discoverable credentials per RP ID, as a platform authenticator or a security key
with resident keys does: a sign-in without `allowCredentials` picks the one credential it holds
for the RP ID (or the one named).

Every check a relying party makes can be failed on purpose through a keyword of `create()` or
`get()`: the origin, the RP ID hashed into the authenticator data, the client data type, the
challenge, the UP / UV / BE / BS flags, the signature counter, the signing key, the user handle,
the credential id, the AAGUID.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

ORIGIN = "http://testserver"  # the tests' public URL, so the default allowed origin

UP = 0x01
UV = 0x04
BE = 0x08
BS = 0x10
AT = 0x40

ES256 = -7

# A value for `user_handle=` in `get()`: the response carries no userHandle at all.
OMIT: Any = object()


def b64(data: bytes) -> str:
    return bytes_to_base64url(data)


def unb64(text: str) -> bytes:
    return base64url_to_bytes(text)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def cose_key(public: ec.EllipticCurvePublicKey) -> bytes:
    """The COSE_Key (RFC 9053 EC2, alg ES256) of a P-256 public key."""
    numbers = public.public_numbers()
    return cbor2.dumps({1: 2, 3: ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})


@dataclass
class Credential:
    """One discoverable credential held by the authenticator."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    user_name: str
    aaguid: bytes = bytes(16)
    backup_eligible: bool = False
    backed_up: bool = False
    sign_count: int = 0
    counter_step: int = 1  # 0: a synced passkey that never counts
    transports: list[str] = field(default_factory=lambda: ["internal", "hybrid"])

    @property
    def id(self) -> str:
        """The credential id as the browser and the server write it (base64url)."""
        return b64(self.credential_id)

    @property
    def public_key_cose(self) -> bytes:
        return cose_key(self.key.public_key())

    def clone(self) -> Credential:
        """Another authenticator holding the same private key and counter (a cloned device)."""
        return Credential(
            credential_id=self.credential_id,
            key=self.key,
            rp_id=self.rp_id,
            user_handle=self.user_handle,
            user_name=self.user_name,
            aaguid=self.aaguid,
            backup_eligible=self.backup_eligible,
            backed_up=self.backed_up,
            sign_count=self.sign_count,
            counter_step=self.counter_step,
            transports=list(self.transports),
        )


def client_data(kind: str, challenge: str, origin: str) -> bytes:
    """clientDataJSON as browsers serialise it (compact, this key order)."""
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}, separators=(",", ":")
    ).encode()


def authenticator_data(
    rp_id: str, flags: int, sign_count: int, attested: bytes = b"", *, rp_id_hash: bytes | None = None
) -> bytes:
    digest = rp_id_hash if rp_id_hash is not None else hashlib.sha256(rp_id.encode()).digest()
    return digest + bytes([flags]) + struct.pack(">I", sign_count) + attested


def flags_of(*, up: bool, uv: bool, be: bool, bs: bool, at: bool = False) -> int:
    return (UP if up else 0) | (UV if uv else 0) | (BE if be else 0) | (BS if bs else 0) | (AT if at else 0)


def other_challenge() -> str:
    return b64(os.urandom(32))


def rp_id_of(origin: str) -> str:
    return urlsplit(origin).hostname or ""


class SoftAuthenticator:
    """A platform authenticator (by default: device-bound, user-verifying, counting signatures)
    behind a browser on `origin`.

    `backup_eligible` / `backed_up` / `aaguid` / `counter_step` / `transports` are the defaults
    of the credentials it creates (a synced passkey provider: `backup_eligible=True,
    backed_up=True, counter_step=0`)."""

    def __init__(
        self,
        origin: str = ORIGIN,
        *,
        backup_eligible: bool = False,
        backed_up: bool = False,
        aaguid: bytes | str | None = None,
        counter_step: int = 1,
        transports: list[str] | None = None,
        attachment: str = "platform",
    ) -> None:
        self.origin = origin
        self.backup_eligible = backup_eligible
        self.backed_up = backed_up
        self.aaguid = _aaguid_bytes(aaguid)
        self.counter_step = counter_step
        self.transports = transports if transports is not None else ["internal", "hybrid"]
        self.attachment = attachment
        self.credentials: dict[str, list[Credential]] = {}
        self.last_created: Credential | None = None

    # --- what it holds ---------------------------------------------------------------------

    def held(self, rp_id: str | None = None) -> list[Credential]:
        if rp_id is None:
            return [c for creds in self.credentials.values() for c in creds]
        return list(self.credentials.get(rp_id, []))

    @property
    def only(self) -> Credential:
        """The one credential it holds (for tests that made exactly one)."""
        every = self.held()
        assert len(every) == 1, f"{len(every)} credentials held"
        return every[0]

    def forget(self, credential: Credential) -> None:
        self.credentials[credential.rp_id].remove(credential)

    def adopt(self, credential: Credential) -> Credential:
        """Hold a credential made elsewhere (a clone, a credential copied from another device)."""
        self.credentials.setdefault(credential.rp_id, []).append(credential)
        return credential

    # --- navigator.credentials.create() ----------------------------------------------------

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        client_type: str = "webauthn.create",
        challenge: str | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        backup_eligible: bool | None = None,
        backed_up: bool | None = None,
        aaguid: bytes | str | None = None,
        sign_count: int = 0,
        credential_id: bytes | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
        algorithm: int = ES256,
        keep: bool = True,
        honour_exclude: bool = False,
    ) -> dict[str, Any]:
        """The registration a browser hands the page for creation `options`.

        `rp_id` is the RP ID hashed into the authenticator data (default: `options.rp.id`, else
        the origin's host); `challenge` replaces the options' one in clientDataJSON;
        `credential_id` reuses a given id (an already registered one); `algorithm` is written in
        the COSE key (a value the server did not offer). `keep=False` does not store the
        credential. `honour_exclude=True` refuses, as a browser would, when it already holds one
        of `excludeCredentials`."""
        origin = origin or self.origin
        rp = options.get("rp") or {}
        true_rp_id = rp.get("id") or rp_id_of(origin)
        hashed_rp_id = rp_id if rp_id is not None else true_rp_id
        if honour_exclude:
            excluded = {c["id"] for c in options.get("excludeCredentials") or []}
            if excluded & {c.id for c in self.held(true_rp_id)}:
                raise InvalidStateError("the authenticator already holds an excluded credential")
        be = self.backup_eligible if backup_eligible is None else backup_eligible
        bs = self.backed_up if backed_up is None else backed_up
        user = options.get("user") or {}
        credential = Credential(
            credential_id=credential_id if credential_id is not None else os.urandom(32),
            key=key or new_key(),
            rp_id=true_rp_id,
            user_handle=unb64(user["id"]) if user.get("id") else b"",
            user_name=str(user.get("name", "")),
            aaguid=_aaguid_bytes(aaguid) if aaguid is not None else self.aaguid,
            backup_eligible=be,
            backed_up=bs,
            sign_count=sign_count,
            counter_step=self.counter_step,
            transports=list(self.transports),
        )
        public = cose_key(credential.key.public_key())
        if algorithm != ES256:
            decoded = cbor2.loads(public)
            decoded[3] = algorithm
            public = cbor2.dumps(decoded)
        attested = (
            credential.aaguid + struct.pack(">H", len(credential.credential_id)) + credential.credential_id + public
        )
        auth_data = authenticator_data(
            hashed_rp_id,
            flags_of(up=user_present, uv=user_verified, be=be, bs=bs, at=True),
            sign_count,
            attested,
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        data = client_data(client_type, challenge or options["challenge"], origin)
        spki = credential.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if keep:
            self.adopt(credential)
        self.last_created = credential
        return {
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(data),
                "attestationObject": b64(attestation),
                "authenticatorData": b64(auth_data),
                "transports": list(credential.transports),
                "publicKeyAlgorithm": algorithm,
                "publicKey": b64(spki),
            },
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
        }

    # --- navigator.credentials.get() -------------------------------------------------------

    def pick(self, options: dict[str, Any], origin: str, credential: Credential | str | None) -> Credential:
        if isinstance(credential, Credential):
            return credential
        rp_id = options.get("rpId") or rp_id_of(origin)
        candidates = self.held(rp_id)
        allowed = {c["id"] for c in options.get("allowCredentials") or []}
        if allowed:
            candidates = [c for c in candidates if c.id in allowed]
        if isinstance(credential, str):
            candidates = [c for c in candidates if c.id == credential]
        if len(candidates) != 1:
            raise NotAllowedError(f"{len(candidates)} credentials for {rp_id!r} match; name one")
        return candidates[0]

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | str | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        client_type: str = "webauthn.get",
        challenge: str | None = None,
        user_present: bool = True,
        user_verified: bool = True,
        backup_eligible: bool | None = None,
        backed_up: bool | None = None,
        sign_count: int | None = None,
        sign_with: ec.EllipticCurvePrivateKey | None = None,
        forge: bool = False,
        user_handle: Any = None,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """The assertion a browser hands the page for request `options`.

        `credential` names the credential (else the one held for the RP ID, within
        `allowCredentials`); `rp_id` is hashed in place of the options' `rpId`; `sign_count`
        is written as given (else the credential's counter moves on by its step); `sign_with`
        or `forge=True` signs with another key; `user_handle` replaces the credential's (bytes)
        or leaves it out (`OMIT`); `credential_id` presents another id (one the server does not
        know) for the same key."""
        origin = origin or self.origin
        chosen = self.pick(options, origin, credential)
        if sign_count is None:
            chosen.sign_count += chosen.counter_step
            count = chosen.sign_count
        else:
            count = sign_count
            chosen.sign_count = max(chosen.sign_count, sign_count)
        be = chosen.backup_eligible if backup_eligible is None else backup_eligible
        bs = chosen.backed_up if backed_up is None else backed_up
        hashed_rp_id = rp_id if rp_id is not None else (options.get("rpId") or chosen.rp_id)
        auth_data = authenticator_data(hashed_rp_id, flags_of(up=user_present, uv=user_verified, be=be, bs=bs), count)
        data = client_data(client_type, challenge or options["challenge"], origin)
        signer = sign_with or (new_key() if forge else chosen.key)
        signature = signer.sign(auth_data + hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256()))
        presented_id = b64(credential_id) if credential_id is not None else chosen.id
        response: dict[str, Any] = {
            "clientDataJSON": b64(data),
            "authenticatorData": b64(auth_data),
            "signature": b64(signature),
        }
        if user_handle is not OMIT:
            response["userHandle"] = b64(user_handle if user_handle is not None else chosen.user_handle)
        return {
            "id": presented_id,
            "rawId": presented_id,
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
        }


class InvalidStateError(Exception):
    """What `navigator.credentials.create()` rejects with for an excluded credential."""


class NotAllowedError(Exception):
    """What `navigator.credentials.get()` rejects with when no credential is chosen."""


def _aaguid_bytes(value: bytes | str | None) -> bytes:
    if value is None:
        return bytes(16)
    if isinstance(value, str):
        return uuid.UUID(value).bytes
    assert len(value) == 16
    return value


def tampered(credential_json: dict[str, Any], **response_fields: Any) -> dict[str, Any]:
    """A deep copy of a credential JSON with `response` fields replaced (None removes one)."""
    copied = copy.deepcopy(credential_json)
    for name, value in response_fields.items():
        if value is None:
            copied["response"].pop(name, None)
        else:
            copied["response"][name] = value
    return copied
