"""identity_key and normalize_email: what uniqueness is judged on, and what is stored."""

from __future__ import annotations

import unicodedata

import pytest

from authgate.security.identifiers import KEY_MAX, email_key, identity_key, normalize_email, username_key

DOMAIN = "d" * 60 + "." + "e" * 60 + ".com"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("\u017fam@example.com", "sam@example.com"),  # LONG S
        ("\uff42\uff4f\uff42@example.com", "bob@example.com"),  # full-width
        ("Sam@Example.COM", "sam@example.com"),
        ("Stra\u00dfe", "strasse"),  # sharp s folds to "ss"
        ("\u212bngstr\u00f6m", "\u00e5ngstr\u00f6m"),  # ANGSTROM SIGN, NFKC to A WITH RING, then folded
        ("\ufb03x", "ffix"),  # ligature spelt out
        ("\u0390", "\u0390"),  # folding decomposes it; the second NFKC composes it back
        ("\u0399\u0308\u0301", "\u0390"),  # capital iota + combining marks: the same key
    ],
)
def test_identity_key_folds_lookalikes_together(typed: str, key: str) -> None:
    assert identity_key(typed) == key
    assert identity_key(key) == key  # a key is its own key
    assert email_key(typed) == username_key(typed) == key


def test_identity_key_is_stable_under_normal_forms() -> None:
    for word in (
        "\u00c5ngstr\u00f6m",
        "Stra\u00dfe",
        "\u1e9e",
        "\u0130stanbul",
        "\u01f0",
        "\u03a3\u03bf\u03c6\u03af\u03b1",
    ):
        for form in ("NFC", "NFD", "NFKC", "NFKD"):
            assert identity_key(unicodedata.normalize(form, word)) == identity_key(word), (word, form)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  \u017fam@Example.COM ", "sam@example.com"),
        ("\uff42\uff4f\uff42@example.com", "bob@example.com"),
        ("Sam@Example.com", "Sam@example.com"),  # the local part keeps its case; only the key folds it
    ],
)
def test_normalize_email_stores_the_nfkc_form(typed: str, stored: str) -> None:
    assert normalize_email(typed) == stored


def test_normalize_email_refuses_an_address_too_long_once_spelt_out() -> None:
    address = "\ufb03" * 64 + "@" + DOMAIN  # 190 characters, 318 after NFKC
    assert len(address) == 190
    with pytest.raises(ValueError, match="too long"):
        normalize_email(address)


def test_normalize_email_accepts_the_longest_address_whose_key_fits() -> None:
    address = "\u00df" * 64 + "@" + DOMAIN  # 254 UTF-8 bytes; the key spells each sharp s "ss"
    assert normalize_email(address) == address
    assert len(email_key(address)) == KEY_MAX


def test_every_key_of_an_accepted_address_fits_the_column() -> None:
    """Folding can lengthen text (U+0390 folds to three code points); the stored key must not."""
    address = "\u0390" * 64 + "@" + DOMAIN
    assert len(address.casefold()) > KEY_MAX  # what the old key (casefold alone) came to
    assert len(email_key(normalize_email(address))) <= KEY_MAX


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@", "@example.com", "a@b@example.com"])
def test_normalize_email_refuses_what_is_not_an_address(bad: str) -> None:
    with pytest.raises(ValueError, match="Not a valid email address"):
        normalize_email(bad)
