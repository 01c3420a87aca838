"""The pure TOTP and recovery-code functions (security/totp.py, security/recovery_codes.py)."""

from __future__ import annotations

import base64

import pyotp

from authgate.security import recovery_codes, totp

# RFC 6238 appendix B: the SHA-1 seed "12345678901234567890"; the 8-digit values' last 6 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = {59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037"}


def test_rfc_6238_vectors() -> None:
    for moment, code in RFC_VECTORS.items():
        assert totp.code_at_step(RFC_SECRET, totp.step_at(moment)) == code
        assert totp.matching_step(RFC_SECRET, code, now=moment) == totp.step_at(moment)


def test_window_is_one_step_either_side() -> None:
    now = 1_700_000_015.0
    step = totp.step_at(now)
    for offset in (-1, 0, 1):
        assert totp.matching_step(RFC_SECRET, totp.code_at_step(RFC_SECRET, step + offset), now=now) == step + offset
    for offset in (-2, 2, 10):
        code = totp.code_at_step(RFC_SECRET, step + offset)
        assert totp.matching_step(RFC_SECRET, code, now=now) is None


def test_malformed_codes_never_match() -> None:
    # Full-width digits are digits to str.isdigit, but must not reach hmac.compare_digest.
    full_width = "\uff12\uff18\uff17\uff10\uff18\uff12"
    now = 59
    for bad in ("", "28708", "2870820", "28708a", full_width, "-287082"):
        assert totp.matching_step(RFC_SECRET, bad, now=now) is None
    assert totp.matching_step(RFC_SECRET, " 287 082 ", now=now) == 1


def test_secret_url_and_qr() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and base64.b32decode(secret)
    assert secret != totp.new_secret()
    url = totp.otpauth_url(secret, account="ada@example.com", issuer="authgate")
    parsed = pyotp.parse_uri(url)
    assert isinstance(parsed, pyotp.TOTP) and parsed.secret == secret and parsed.issuer == "authgate"
    assert parsed.digits == 6 and parsed.interval == 30
    assert totp.qr_data_url(url).startswith("data:image/svg+xml")
    assert totp.normalize_secret(" abcd efgh== ") == "ABCDEFGH"


def test_recovery_codes() -> None:
    codes = recovery_codes.new_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert len(code) == 19 and code.count("-") == 3
        assert recovery_codes.looks_like_code(code)
        assert recovery_codes.looks_like_code(code.upper().replace("-", " "))
        digest = recovery_codes.code_digest("user-1", code)
        assert digest == recovery_codes.code_digest("user-1", code.upper())
        assert digest != recovery_codes.code_digest("user-2", code)
        assert code.replace("-", "") not in digest
    assert not recovery_codes.looks_like_code("123456")
    assert not recovery_codes.looks_like_code("0000-0000-0000-0000")  # 0 and 1 are not base32


def test_the_runtime_lists_every_method() -> None:
    """Fail closed: the gate asks the runtime's list, built from settings, never an import side effect."""
    from authgate.methods import methods_from_settings
    from authgate.settings import Settings

    methods = methods_from_settings(Settings(_env_file=None, jwt_secret="x" * 32))  # type: ignore[call-arg]
    assert [m.name for m in methods.first] == ["password", "code", "link", "passkey"]
    assert [m.name for m in methods.second] == ["totp", "recovery", "code", "passkey"]
    on_an_ip = Settings(_env_file=None, jwt_secret="x" * 32, public_url="http://192.0.2.7:8000")  # type: ignore[call-arg]
    assert "passkey" not in [m.name for m in methods_from_settings(on_an_ip).second]
