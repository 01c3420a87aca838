"""Every refusal of `formats.parse`: its code, the field it names, bounds just over and exactly
at, and that no `detail` repeats the hash, its salt or its key."""

from __future__ import annotations

import base64
import copy
import os
import re
from typing import Any

import pytest

from authgate.security.hashing.base import Refused
from authgate.security.hashing.formats import ADVICE, parse
from authgate.security.hashing.pbkdf2_family import Pbkdf2Hash
from authgate.security.hashing.scrypt_family import ScryptHash
from tests.security.hashing.generators import FIREBASE_VECTOR


def k(n: int) -> str:
    """n random bytes, standard base64 without padding (a salt or a key)."""
    return base64.b64encode(os.urandom(n)).decode().rstrip("=")


def hx(n: int) -> str:
    return os.urandom(n).hex()


def bc(cost: int, prefix: str = "2b") -> str:
    return f"${prefix}${cost:02d}$" + (k(40) + "abcdefghijklmnopqrstuvwxyz")[:53].replace("+", ".")


def a2(m: int = 65536, t: int = 3, p: int = 4, kind: str = "argon2id", salt: int = 16, key: int = 32) -> str:
    return f"${kind}$v=19$m={m},t={t},p={p}${k(salt)}${k(key)}"


def pb(digest: str = "sha256", i: int = 1000, salt: int = 16, key: int = 32, l: int | None = None) -> str:  # noqa: E741
    return f"$pbkdf2-{digest}$i={i},l={key if l is None else l}${k(salt)}${k(key)}"


def sc(ln: int = 10, r: int = 8, p: int = 1, key: int = 32) -> str:
    return f"$scrypt$ln={ln},r={r},p={p}${k(16)}${k(key)}"


def fb(**params: Any) -> dict[str, Any]:
    row = copy.deepcopy(FIREBASE_VECTOR)
    for name, value in params.items():
        if name in ("hash", "salt"):
            row[name] = value
        else:
            row["params"][name] = value  # type: ignore[index]
    return row


def row(fmt: str, hashed: str) -> dict[str, Any]:
    return {"format": fmt, "hash": hashed}


UNSUPPORTED = "unsupported_hash"
INVALID = "invalid_hash"
COSTLY = "hash_cost_too_high"
VALIDATION = "validation_failed"
H = "password.hash"

# (id, row, code, field)
REFUSALS: list[tuple[str, Any, str, str]] = [
    # --- unsupported ---------------------------------------------------------------------------
    ("format-unknown", row("md5", hx(16)), UNSUPPORTED, "password.format"),
    ("format-phpass", row("phpass", "$P$B" + k(23)), UNSUPPORTED, "password.format"),
    ("django-md5", row("django", f"md5${k(16)}${hx(16)}"), UNSUPPORTED, H),
    ("django-sha1", row("django", f"sha1${k(16)}${hx(20)}"), UNSUPPORTED, H),
    ("django-unsalted_md5", row("django", f"unsalted_md5$${hx(16)}"), UNSUPPORTED, H),
    ("django-unsalted_sha1", row("django", f"unsalted_sha1$${hx(20)}"), UNSUPPORTED, H),
    ("django-crypt", row("django", f"crypt$$ab{k(9)}"), UNSUPPORTED, H),
    ("django-unusable", row("django", "!" + k(30)), UNSUPPORTED, H),
    ("django-argon2d", row("django", "argon2" + a2(kind="argon2d")), UNSUPPORTED, H),
    ("django-unknown-hasher", row("django", f"sha256${k(16)}${hx(32)}"), UNSUPPORTED, H),
    ("werkzeug-plain", row("werkzeug", "plain$$secret-password"), UNSUPPORTED, H),
    ("werkzeug-sha256", row("werkzeug", f"sha256${k(8)}${hx(32)}"), UNSUPPORTED, H),
    ("werkzeug-sha1", row("werkzeug", f"sha1${k(8)}${hx(20)}"), UNSUPPORTED, H),
    ("werkzeug-md5", row("werkzeug", f"md5${k(8)}${hx(16)}"), UNSUPPORTED, H),
    ("werkzeug-sha3", row("werkzeug", f"sha3_256${k(8)}${hx(32)}"), UNSUPPORTED, H),
    ("werkzeug-pbkdf2-sha3", row("werkzeug", f"pbkdf2:sha3_256:1000${k(8)}${hx(32)}"), UNSUPPORTED, H),
    ("werkzeug-pbkdf2-md5", row("werkzeug", f"pbkdf2:md5:1000${k(8)}${hx(16)}"), UNSUPPORTED, H),
    ("phpass-P", row("bcrypt", "$P$B" + k(23).replace("+", ".")), UNSUPPORTED, H),
    ("phpass-H", row("pbkdf2", "$H$9" + k(23).replace("+", ".")), UNSUPPORTED, H),
    ("md5-crypt", row("bcrypt", f"$1$saltsalt${k(16)}"), UNSUPPORTED, H),
    ("sha256-crypt", row("pbkdf2", f"$5$rounds=5000$saltsalt${k(32)}"), UNSUPPORTED, H),
    ("sha512-crypt", row("scrypt", f"$6$saltsalt${k(64)}"), UNSUPPORTED, H),
    ("ssha", row("pbkdf2", "{SSHA}" + base64.b64encode(os.urandom(28)).decode()), UNSUPPORTED, H),
    ("argon2d", row("argon2", a2(kind="argon2d")), UNSUPPORTED, H),
    ("bcrypt-2x", row("bcrypt", bc(10, "2x")), UNSUPPORTED, H),
    ("passlib-pbkdf2-sha1", row("pbkdf2", f"$pbkdf2$1000${k(16)}${k(20)}"), UNSUPPORTED, H),
    ("bare-md5", row("bcrypt", hx(16)), UNSUPPORTED, H),
    ("bare-sha1", row("pbkdf2", hx(20)), UNSUPPORTED, H),
    ("bare-sha256", row("argon2", hx(32)), UNSUPPORTED, H),
    ("bare-sha512", row("scrypt", hx(64)), UNSUPPORTED, H),
    # --- invalid -------------------------------------------------------------------------------
    ("bcrypt-wrong-prefix", row("bcrypt", a2()), INVALID, H),
    ("bcrypt-short", row("bcrypt", bc(10)[:-1]), INVALID, H),
    ("bcrypt-cost-3", row("bcrypt", bc(3)), INVALID, H),
    (
        "authgate-argon2i-as-argon2id",
        {"format": "authgate", "hash": a2(kind="argon2i"), "scheme": "argon2id"},
        INVALID,
        H,
    ),
    ("authgate-argon2-as-bcrypt", {"format": "authgate", "hash": a2(), "scheme": "bcrypt-sha256"}, INVALID, H),
    ("argon2-bad-base64", row("argon2", f"$argon2id$v=19$m=65536,t=3,p=4$!!!!{k(12)}${k(32)}"), INVALID, H),
    ("argon2-short-key", row("argon2", a2(key=15)), INVALID, H),
    ("argon2-version", row("argon2", a2().replace("v=19", "v=20")), INVALID, H),
    ("pbkdf2-bad-base64", row("pbkdf2", f"$pbkdf2-sha256$i=1000,l=32${k(16)}$*{k(32)[1:]}"), INVALID, H),
    ("pbkdf2-l-mismatch", row("pbkdf2", pb(l=64)), INVALID, H),
    ("pbkdf2-sha384", row("pbkdf2", pb().replace("sha256", "sha384")), INVALID, H),
    ("pbkdf2-passlib-sha1-dash", row("pbkdf2", f"$pbkdf2-sha1$1000${k(16)}${k(20)}"), INVALID, H),
    ("pbkdf2-zero-iterations", row("pbkdf2", pb(i=0)), INVALID, H),
    ("pbkdf2-key-15", row("pbkdf2", pb(key=15)), INVALID, H),
    ("scrypt-wrong-prefix", row("scrypt", pb()), INVALID, H),
    ("scrypt-kratos-not-power-of-two", row("scrypt", sc(ln=1000)), INVALID, H),
    ("scrypt-ln-0", row("scrypt", sc(ln=0)), INVALID, H),
    ("scrypt-r-0", row("scrypt", sc(r=0)), INVALID, H),
    ("django-pbkdf2-short-key", row("django", f"pbkdf2_sha256$1000$salt${k(20)}"), INVALID, H),
    ("django-pbkdf2-parts", row("django", f"pbkdf2_sha256$1000${k(32)}"), INVALID, H),
    ("django-scrypt-not-power-of-two", row("django", f"scrypt$1000$salt$8$1${k(64)}"), INVALID, H),
    ("django-scrypt-key-32", row("django", f"scrypt$16384$salt$8$1${k(32)}"), INVALID, H),
    ("django-no-dollar", row("django", k(40)), INVALID, H),
    ("werkzeug-not-hex", row("werkzeug", f"pbkdf2:sha256:1000$salt${k(32)}"), INVALID, H),
    ("werkzeug-no-iterations", row("werkzeug", f"pbkdf2:sha256$salt${hx(32)}"), INVALID, H),
    ("werkzeug-scrypt-defaults", row("werkzeug", f"scrypt$salt${hx(64)}"), INVALID, H),
    ("werkzeug-scrypt-not-power-of-two", row("werkzeug", f"scrypt:1000:8:1$salt${hx(64)}"), INVALID, H),
    ("werkzeug-wrong-length", row("werkzeug", f"pbkdf2:sha512:1000$salt${hx(32)}"), INVALID, H),
    ("werkzeug-empty-salt", row("werkzeug", f"pbkdf2:sha256:1000$${hx(32)}"), INVALID, H),
    ("empty-hash", row("bcrypt", ""), INVALID, H),
    ("firebase-bad-salt", fb(salt="not base64!"), INVALID, "password.salt"),
    ("firebase-bad-hash", fb(hash="***"), INVALID, H),
    ("firebase-bad-signer", fb(signerKey="%%"), INVALID, "password.params.signerKey"),
    ("firebase-bad-separator", fb(saltSeparator="B"), INVALID, "password.params.saltSeparator"),
    ("firebase-rounds-0", fb(rounds=0), INVALID, "password.params.rounds"),
    ("firebase-memcost-0", fb(memCost=0), INVALID, "password.params.memCost"),
    ("firebase-hash-length", fb(hash=k(32)), INVALID, H),
    # --- bounds, just over ---------------------------------------------------------------------
    ("bcrypt-cost-16", row("bcrypt", bc(16)), COSTLY, H),
    ("django-bcrypt-cost-16", row("django", "bcrypt_sha256$" + bc(16)), COSTLY, H),
    ("argon2-m", row("argon2", a2(m=262145, t=1)), COSTLY, H),
    ("argon2-t", row("argon2", a2(m=8192, t=17)), COSTLY, H),
    ("argon2-m-t", row("argon2", a2(m=262144, t=5)), COSTLY, H),
    ("argon2-p", row("argon2", a2(m=65536, t=1, p=65)), COSTLY, H),
    ("argon2-key", row("argon2", a2(key=129)), COSTLY, H),
    ("pbkdf2-sha1-iterations", row("pbkdf2", pb("sha1", i=5_000_001, key=20)), COSTLY, H),
    ("pbkdf2-sha256-iterations", row("pbkdf2", pb("sha256", i=5_000_001)), COSTLY, H),
    ("pbkdf2-sha512-iterations", row("pbkdf2", pb("sha512", i=1_000_001, key=64)), COSTLY, H),
    ("pbkdf2-key", row("pbkdf2", pb(key=129)), COSTLY, H),
    ("pbkdf2-iterations-huge", row("pbkdf2", pb(i=10**18)), COSTLY, H),
    ("django-pbkdf2-iterations", row("django", f"pbkdf2_sha256$5000001$salt${k(32)}"), COSTLY, H),
    ("werkzeug-pbkdf2-iterations", row("werkzeug", f"pbkdf2:sha512:1000001$salt${hx(64)}"), COSTLY, H),
    ("scrypt-r", row("scrypt", sc(ln=4, r=33)), COSTLY, H),
    ("scrypt-p", row("scrypt", sc(ln=4, r=1, p=17)), COSTLY, H),
    ("scrypt-memory", row("scrypt", sc(ln=20, r=3, p=1)), COSTLY, H),
    ("scrypt-nrp", row("scrypt", sc(ln=15, r=8, p=9)), COSTLY, H),
    ("scrypt-log-n", row("scrypt", sc(ln=22, r=1)), COSTLY, H),
    ("scrypt-kratos-n", row("scrypt", sc(ln=2**22, r=1)), COSTLY, H),
    ("scrypt-key", row("scrypt", sc(key=129)), COSTLY, H),
    ("scrypt-ln-huge", row("scrypt", sc(ln=10**18 + 1, r=1)), INVALID, H),  # N itself, not a power of two
    ("scrypt-kratos-huge", row("scrypt", sc(ln=2**62, r=1)), COSTLY, H),
    ("django-scrypt-memory", row("django", f"scrypt$2097152$salt$2$1${k(64)}"), COSTLY, H),
    ("werkzeug-scrypt-p", row("werkzeug", f"scrypt:1024:8:17$salt${hx(64)}"), COSTLY, H),
    ("firebase-rounds-9", fb(rounds=9), COSTLY, "password.params.rounds"),
    ("firebase-memcost-15", fb(memCost=15), COSTLY, "password.params.memCost"),
    ("firebase-salt-1025", fb(salt=k(1024)), COSTLY, "password.salt"),  # 1024 bytes and the 1-byte separator
    ("hash-1025-chars", row("bcrypt", "$2b$10$" + "a" * 1018), COSTLY, H),
    # --- validation ----------------------------------------------------------------------------
    ("not-an-object", "$2b$10$" + "a" * 53, VALIDATION, "password"),
    ("list", [{"format": "bcrypt"}], VALIDATION, "password"),
    ("missing-format", {"hash": bc(10)}, VALIDATION, "password.format"),
    ("missing-hash", {"format": "bcrypt"}, VALIDATION, "password.hash"),
    ("null-hash", {"format": "bcrypt", "hash": None}, VALIDATION, "password.hash"),
    ("hash-not-string", {"format": "bcrypt", "hash": 12}, VALIDATION, "password.hash"),
    ("hash-object", {"format": "bcrypt", "hash": {"foo": 1}}, VALIDATION, "password.hash"),
    ("format-not-string", {"format": ["bcrypt"], "hash": bc(10)}, VALIDATION, "password.format"),
    ("unknown-field", {"format": "bcrypt", "hash": bc(10), "foo": 1}, VALIDATION, "password.foo"),
    (
        "scheme-outside-authgate",
        {"format": "bcrypt", "hash": bc(10), "scheme": "bcrypt"},
        VALIDATION,
        "password.scheme",
    ),
    ("salt-outside-firebase", {"format": "pbkdf2", "hash": pb(), "salt": k(16)}, VALIDATION, "password.salt"),
    ("params-outside-firebase", {"format": "scrypt", "hash": sc(), "params": {}}, VALIDATION, "password.params"),
    ("authgate-unknown-scheme", {"format": "authgate", "hash": bc(10), "scheme": "md5"}, VALIDATION, "password.scheme"),
    ("authgate-scheme-not-string", {"format": "authgate", "hash": bc(10), "scheme": 1}, VALIDATION, "password.scheme"),
    ("firebase-missing-salt", {k_: v for k_, v in fb().items() if k_ != "salt"}, VALIDATION, "password.salt"),
    ("firebase-missing-params", {k_: v for k_, v in fb().items() if k_ != "params"}, VALIDATION, "password.params"),
    ("firebase-params-not-object", {**fb(), "params": "x"}, VALIDATION, "password.params"),
    ("firebase-params-unknown", fb(foo=1), VALIDATION, "password.params.foo"),
    ("firebase-rounds-string", fb(rounds="8"), VALIDATION, "password.params.rounds"),
    ("firebase-memcost-bool", fb(memCost=True), VALIDATION, "password.params.memCost"),
    ("firebase-memcost-float", fb(memCost=14.0), VALIDATION, "password.params.memCost"),
    ("firebase-signer-not-string", fb(signerKey=123), VALIDATION, "password.params.signerKey"),
    ("firebase-salt-not-string", fb(salt=[1]), VALIDATION, "password.salt"),
]
for _name in ("signerKey", "saltSeparator", "rounds", "memCost"):
    _row = fb()
    del _row["params"][_name]
    REFUSALS.append((f"firebase-missing-{_name}", _row, VALIDATION, f"password.params.{_name}"))


@pytest.mark.parametrize(("password", "code", "field"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refused(password: Any, code: str, field: str) -> None:
    with pytest.raises(Refused) as refused:
        parse(password)
    assert (refused.value.code, refused.value.field) == (code, field), refused.value.detail
    if code == UNSUPPORTED:
        assert ADVICE in refused.value.detail


def _material(password: Any) -> list[str]:
    """The hash, salt and key strings of a row, and every long piece of them."""
    if not isinstance(password, dict):
        return [password] if isinstance(password, str) else []
    found = [v for v in (password.get("hash"), password.get("salt")) if isinstance(v, str) and v]
    params = password.get("params")
    if isinstance(params, dict):
        found += [v for v in params.values() if isinstance(v, str) and len(v) >= 4]
    pieces = [piece for text in list(found) for piece in re.split(r"[$:,]", text) if len(piece) >= 8]
    labels = {"argon2id", "pbkdf2_sha256", "pbkdf2_sha1", "unsalted_md5", "unsalted_sha1", "bcrypt_sha256"}
    return found + [piece for piece in pieces if piece not in labels]


def test_no_detail_names_the_hash_or_its_salt() -> None:
    for name, password, _code, _field in REFUSALS:
        with pytest.raises(Refused) as refused:
            parse(password)
        for secret in _material(password):
            assert secret not in refused.value.detail, name


# --- exactly at the bounds: accepted ------------------------------------------------------------

AT_BOUND: list[tuple[str, Any]] = [
    ("bcrypt-cost-4", row("bcrypt", bc(4))),
    ("bcrypt-cost-15", row("bcrypt", bc(15))),
    ("argon2-m", row("argon2", a2(m=262144, t=4))),
    ("argon2-t", row("argon2", a2(m=65536, t=16))),
    ("argon2-p", row("argon2", a2(m=65536, t=1, p=64))),
    ("argon2-key-128", row("argon2", a2(key=128))),
    ("argon2-key-16", row("argon2", a2(key=16))),
    ("pbkdf2-sha1", row("pbkdf2", pb("sha1", i=5_000_000, key=20))),
    ("pbkdf2-sha256", row("pbkdf2", pb("sha256", i=5_000_000))),
    ("pbkdf2-sha512", row("pbkdf2", pb("sha512", i=1_000_000, key=64))),
    ("pbkdf2-key-128", row("pbkdf2", pb(key=128))),
    ("pbkdf2-key-16", row("pbkdf2", pb(key=16))),
    ("scrypt-r", row("scrypt", sc(ln=4, r=32))),
    ("scrypt-p", row("scrypt", sc(ln=4, r=1, p=16))),
    ("scrypt-memory", row("scrypt", sc(ln=21, r=1, p=1))),
    ("scrypt-nrp", row("scrypt", sc(ln=15, r=8, p=8))),
    ("scrypt-n-2", row("scrypt", sc(ln=1, r=1))),
    ("scrypt-kratos-n", row("scrypt", sc(ln=2**21, r=1))),
    ("firebase-rounds-memcost", fb(rounds=8, memCost=14)),
    ("firebase-rounds-1", fb(rounds=1, memCost=1)),
    ("firebase-salt-1024", fb(salt=k(1023))),  # and the 1-byte separator
    ("hash-1024-chars", row("argon2", f"$argon2id$v=19$m=65536,t=3,p=4${k(711)}${k(33)}")),
]


@pytest.mark.parametrize("password", [a[1] for a in AT_BOUND], ids=[a[0] for a in AT_BOUND])
def test_at_bound_accepted(password: Any) -> None:
    parse(password)


def test_hash_of_exactly_1024_characters_is_not_too_long() -> None:
    assert len(AT_BOUND[-1][1]["hash"]) == 1024
    with pytest.raises(Refused) as refused:
        parse(row("bcrypt", "$2b$10$" + "a" * 1017))
    assert refused.value.code == INVALID


def test_kratos_ln_is_n_itself() -> None:
    kratos = parse(row("scrypt", "$scrypt$ln=16384,r=8,p=1$" + k(16) + "$" + k(32)))
    assert kratos.value.startswith("$scrypt$ln=14,r=8,p=1$")
    passlib = parse(row("scrypt", "$scrypt$ln=14,r=8,p=1$" + k(16) + "$" + k(32)))
    assert passlib.value.startswith("$scrypt$ln=14,r=8,p=1$")


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda n: Pbkdf2Hash("sha256", 1000, bytes(n), bytes(32)), "salt length 1025 bytes"),
        (lambda n: ScryptHash(10, 8, 1, bytes(n), bytes(32)), "salt length 1025 bytes"),
    ],
)
def test_salt_bound_the_hash_length_cannot_reach(make: Any, problem: str) -> None:
    """A salt in the hash string is held under 1024 bytes by the 1024-character bound already;
    the family's own bound is checked here, as `verify` checks it too."""
    assert make(1024).too_costly() is None
    assert problem in make(1025).too_costly()
