"""Look-alike addresses cannot squat an account, and an address whose key would not fit the
column is a 400 (never a 500 from PostgreSQL).

Keys are NFKC, case-folded, NFKC again: `sam` spelt with U+017F LONG S and full-width `bob`
share the key of the plain address, and the address is stored in NFKC form, so mail for the
account goes to the plain address and never to a look-alike."""

from __future__ import annotations

import unicodedata

import httpx
import pytest

from tests.support.delivery import settled_outbox
from tests.support.http import STRONG_PASSWORD, register
from tests.support.mail import Mailbox

LONG_S_SAM = "\u017fam@example.com"  # U+017F LATIN SMALL LETTER LONG S, then "am"
FULL_WIDTH_BOB = "\uff42\uff4f\uff42@example.com"  # full-width b, o, b
DOMAIN = "d" * 60 + "." + "e" * 60 + ".com"  # 125 characters
# 190 characters, 318 once NFKC spells each U+FB03 (the "ffi" ligature) out: too long to store.
FFI_ADDRESS = "\ufb03" * 64 + "@" + DOMAIN
# 190 characters, 254 UTF-8 bytes. Case-folding U+0390 gives three code points, so the old
# key (casefold alone) was 318 characters: a 500 on PostgreSQL. NFKC composes them back.
IOTA_ADDRESS = "\u0390" * 64 + "@" + DOMAIN
# 190 characters whose key ("ss" for each sharp s) is exactly 254: the longest that fits.
SHARP_S_ADDRESS = "\u00df" * 64 + "@" + DOMAIN


def assert_taken(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "email_taken"


def assert_email_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [e["field"] for e in body["errors"]] == ["email"]


async def test_long_s_lookalike_registered_first_cannot_receive_the_plain_address_mail(
    mclient: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    first = await register(mclient, LONG_S_SAM)
    assert first.json()["email"] == "sam@example.com"  # stored in NFKC form, not as typed
    assert_taken(await mclient.post("/register", json={"email": "sam@example.com", "password": STRONG_PASSWORD}))

    for typed in ("sam@example.com", LONG_S_SAM, "SAM@example.com"):
        assert (await mclient.post("/password/forgot", json={"email": typed})).status_code == 202
    await mailbox.wait_for("sam@example.com", 3)
    assert [r.status for r in await settled_outbox(mclient)] == ["sent"] * 3
    assert {m["To"] for m in mailbox.messages} == {"sam@example.com"}
    assert all(m["Subject"] == "Reset your password" for m in mailbox.messages)


async def test_long_s_lookalike_cannot_squat_an_existing_address(client: httpx.AsyncClient) -> None:
    await register(client, "sam@example.com")
    assert_taken(await client.post("/register", json={"email": LONG_S_SAM, "password": STRONG_PASSWORD}))
    signed_in = await client.post("/login", json={"email": LONG_S_SAM, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 200 and signed_in.json()["email"] == "sam@example.com"


@pytest.mark.parametrize(
    ("first", "second"),
    [(FULL_WIDTH_BOB, "bob@example.com"), ("bob@example.com", FULL_WIDTH_BOB)],
    ids=["full_width_first", "plain_first"],
)
async def test_full_width_lookalike_collides_with_the_plain_address(
    client: httpx.AsyncClient, first: str, second: str
) -> None:
    assert (await register(client, first)).json()["email"] == "bob@example.com"
    assert_taken(await client.post("/register", json={"email": second, "password": STRONG_PASSWORD}))


async def test_address_whose_key_overflows_the_column_is_400_on_register_login_and_otp(
    client: httpx.AsyncClient,
) -> None:
    assert len(FFI_ADDRESS) == 190
    assert_email_refused(await client.post("/register", json={"email": FFI_ADDRESS, "password": STRONG_PASSWORD}))
    assert_email_refused(await client.post("/login", json={"email": FFI_ADDRESS, "password": STRONG_PASSWORD}))
    assert_email_refused(await client.post("/otp/send", json={"channel": "email", "email": FFI_ADDRESS}))
    assert_email_refused(await client.post("/password/forgot", json={"email": FFI_ADDRESS}))


@pytest.mark.parametrize("address", [IOTA_ADDRESS, SHARP_S_ADDRESS], ids=["iota", "sharp_s"])
async def test_address_whose_case_folding_expands_is_stored_not_a_500(client: httpx.AsyncClient, address: str) -> None:
    assert len(address) == 190 and len(address.encode()) == 254
    assert (await register(client, address)).json()["email"] == address
    signed_in = await client.post("/login", json={"email": address, "password": STRONG_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    client.cookies.clear()  # /otp/send unauthenticated, as a stranger would call it
    unknown = address.replace("d" * 60, "f" * 60)  # same length, no account: the decoy path
    for email in (address, unknown):
        sent = await client.post("/otp/send", json={"channel": "email", "email": email})
        assert sent.status_code == 202, sent.text
    # Another spelling of the same address (decomposed) has the same key.
    decomposed = unicodedata.normalize("NFD", address)
    assert_taken(await client.post("/register", json={"email": decomposed, "password": STRONG_PASSWORD}))
