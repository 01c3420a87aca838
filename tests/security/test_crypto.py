from __future__ import annotations

import pytest

from authgate.security.crypto import SecretBox


def test_round_trip_and_context_binding() -> None:
    box = SecretBox("k" * 40)
    sealed = box.seal("JBSWY3DPEHPK3PXP", context="user-1")
    assert "JBSWY3DP" not in sealed
    assert box.open(sealed, context="user-1") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError):
        box.open(sealed, context="user-2")


def test_tampered_or_foreign_ciphertext_is_refused() -> None:
    box = SecretBox("k" * 40)
    sealed = box.seal("secret")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for bad in (flipped, "v0.abc", "v1.!!!", SecretBox("other" * 10).seal("secret")):
        with pytest.raises(ValueError):
            box.open(bad)
