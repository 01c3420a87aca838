from __future__ import annotations

from authgate.security.codes import CodeHasher, new_code, normalize_code


def test_codes_are_six_digits_and_vary() -> None:
    codes = {new_code() for _ in range(2000)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 1900
    assert any(c.startswith("0") for c in codes)  # zero-padded, not shortened


def test_normalize_code() -> None:
    assert normalize_code("123456") == "123456"
    assert normalize_code(" 123 456 ") == "123456"
    assert normalize_code("123-456") == "123456"
    for bad in ["12345", "1234567", "12345a", "", "\uff11\uff12\uff13\uff14\uff15\uff16"]:  # full-width digits
        assert normalize_code(bad) is None


def test_digest_is_keyed_and_bound_to_its_row() -> None:
    hasher = CodeHasher("k" * 40)
    stored = hasher.digest("123456", bound_to="row-1")
    assert "123456" not in stored
    assert hasher.matches("123456", stored, bound_to="row-1")
    assert not hasher.matches("123457", stored, bound_to="row-1")
    assert not hasher.matches("123456", stored, bound_to="row-2")
    assert not CodeHasher("x" * 40).matches("123456", stored, bound_to="row-1")
