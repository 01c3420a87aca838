"""The import formats: how another system's password hash becomes a scheme and its stored string.

Each import row names its format (`password.format`); a hash is never guessed from its shape.
Parsing runs no hash: it reads the string, checks the bounds that keep checking it cheap
(`hash_cost_too_high`), and rebuilds it as the canonical string of its scheme. A refusal's
`detail` names the format and the parameter that failed, never the hash, a salt or a key.

Kratos writes scrypt's N itself under `ln` (passlib writes log2 N there). Rule: an `ln` of
32 or more is N itself and must be a power of two; under 32 it is log2 N (log2 N above 21 is
over the bounds anyway, and no real N is under 32).

A parameter under its family's minimum (bcrypt cost under 4, zero iterations, a key under 16
bytes, N not a power of two) is `invalid_hash`: no real system writes it. One over a bound is
`hash_cost_too_high`, naming the parameter, its value and the bound."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from authgate.security.hashing import pbkdf2_family, scrypt_family
from authgate.security.hashing.argon2_family import ARGON2I, ARGON2ID
from authgate.security.hashing.base import (
    MAX_HASH_CHARS,
    MAX_KEY_BYTES,
    MAX_SALT_BYTES,
    MIN_KEY_BYTES,
    Refused,
    b64,
    unb64,
)
from authgate.security.hashing.bcrypt_family import BCRYPT, BCRYPT_HMAC_SHA256, BCRYPT_SHA256, DJANGO_BCRYPT_SHA256
from authgate.security.hashing.pbkdf2_family import Pbkdf2Hash
from authgate.security.hashing.policy import StoredHash
from authgate.security.hashing.scrypt_family import FirebaseHash, ScryptHash

ADVICE = "import the user without `password` and let them set one (reset link, magic link or code)"

MIN_BCRYPT_COST, MAX_BCRYPT_COST = 4, 15
MAX_ARGON2_MEMORY_KIB = 262144
MAX_ARGON2_TIME = 16
MAX_ARGON2_MEMORY_TIME = 1048576
MAX_ARGON2_PARALLELISM = 64
MIN_ARGON2_SALT_BYTES = 8  # argon2's own minimum
KRATOS_LN = 32  # an `ln` from here on is N itself (see the module's docstring)

FIELDS = frozenset({"format", "hash", "salt", "params", "scheme"})
FIREBASE_PARAMS = ("signerKey", "saltSeparator", "rounds", "memCost")
AUTHGATE_SCHEMES = frozenset({BCRYPT_SHA256.name, BCRYPT_HMAC_SHA256.name, ARGON2ID.name})

_NUM = "([0-9]{1,19})"  # any count a real system writes; larger ones meet the bounds, not a parse error
_BCRYPT = re.compile(r"\$(2[aby])\$([0-9]{2})\$[./A-Za-z0-9]{53}", re.ASCII)
_ARGON2 = re.compile(
    rf"\$(argon2id|argon2i|argon2d)\$(?:v={_NUM}\$)?m={_NUM},t={_NUM},p={_NUM}\$([^$]+)\$([^$]+)", re.ASCII
)
_PHC_PBKDF2 = re.compile(rf"\$pbkdf2-(sha1|sha256|sha512)\$i={_NUM}(?:,l={_NUM})?\$([^$]*)\$([^$]+)", re.ASCII)
_PASSLIB_PBKDF2 = re.compile(rf"\$pbkdf2-(sha256|sha512)\${_NUM}\$([^$]*)\$([^$]+)", re.ASCII)
_PHC_SCRYPT = re.compile(rf"\$scrypt\$ln={_NUM},r={_NUM},p={_NUM}\$([^$]*)\$([^$]+)", re.ASCII)
_DIGITS = re.compile(_NUM, re.ASCII)
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+", re.ASCII)

# What other systems write that authgate cannot check, by how the string starts.
_UNSUPPORTED_PREFIXES = (
    ("$2x$", "bcrypt $2x$ (crypt_blowfish's marker for its sign-extension bug)"),
    ("$argon2d$", "argon2d"),
    ("$P$", "phpass"),
    ("$H$", "phpass"),
    ("$1$", "md5-crypt"),
    ("$apr1$", "Apache md5-crypt"),
    ("$md5", "Sun md5-crypt"),
    ("$5$", "sha256-crypt"),
    ("$6$", "sha512-crypt"),
    ("$sha1$", "sha1-crypt"),
    ("$y$", "yescrypt"),
    ("$7$", "scrypt crypt ($7$)"),
    ("$pbkdf2$", "passlib's PBKDF2-SHA1 ($pbkdf2$)"),
    ("{", "LDAP-style ({SSHA}, {SHA}, {MD5}, {CRYPT}…)"),
)
_DIGEST_HEX_LENGTHS = frozenset({32, 40, 56, 64, 96, 128})  # MD5, SHA-1, SHA-224/256/384/512
_DJANGO_UNSUPPORTED = {
    "md5": "Django salted MD5 (md5$)",
    "sha1": "Django salted SHA-1 (sha1$)",
    "unsalted_md5": "Django unsalted MD5 (unsalted_md5$)",
    "unsalted_sha1": "Django unsalted SHA-1 (unsalted_sha1$)",
    "crypt": "Django crypt (crypt$)",
}
_DJANGO_PBKDF2 = {"pbkdf2_sha256": "sha256", "pbkdf2_sha1": "sha1"}
_DJANGO_SCRYPT_KEY_BYTES = 64
_MAX_B64_CHARS = 4 * ((MAX_SALT_BYTES + 2) // 3)
_WERKZEUG_SCRYPT_KEY_BYTES = 64
_WERKZEUG_UNSUPPORTED = {  # werkzeug before 2.3: `<method>$<salt>$<hex>`, HMAC when salted
    "plain": "werkzeug plain (unhashed)",
    "md5": "werkzeug MD5",
    "sha1": "werkzeug SHA-1",
    "sha224": "werkzeug SHA-224",
    "sha256": "werkzeug SHA-256",
    "sha384": "werkzeug SHA-384",
    "sha512": "werkzeug SHA-512",
}


def _unsupported(what: str, field: str = "password.hash") -> Refused:
    """`what` names the kind; one ending in ":" is a list, not followed by "hashes"."""
    kind = what[:-1] if what.endswith(":") else f"{what} hashes"
    return Refused("unsupported_hash", f"{kind} are not supported: {ADVICE}", field)


def _invalid(detail: str, field: str = "password.hash") -> Refused:
    return Refused("invalid_hash", detail, field)


def _too_costly(detail: str, field: str = "password.hash") -> Refused:
    return Refused("hash_cost_too_high", detail, field)


def _check_unsupported(hashed: str) -> None:
    """Refuse, as unsupported, what a well-known weak or foreign scheme writes."""
    for prefix, what in _UNSUPPORTED_PREFIXES:
        if hashed.startswith(prefix):
            raise _unsupported(what)
    if len(hashed) in _DIGEST_HEX_LENGTHS and _HEX.fullmatch(hashed):
        raise _unsupported("bare MD5 or SHA digest")


def _digits(text: str, what: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise _invalid(f"{what} is not a number")
    return int(text)


def _decoded(text: str, what: str, field: str = "password.hash") -> bytes:
    found = unb64(text)
    if found is None:
        raise _invalid(f"{what} is not base64", field)
    return found


# --- families ---------------------------------------------------------------------------------


def _bcrypt(hashed: str, fmt: str) -> str:
    """The bcrypt string, checked: `$2a$`/`$2b$`/`$2y$`, cost 4 to 15, 53 characters."""
    if hashed.startswith("$2x$"):
        raise _unsupported("bcrypt $2x$ (crypt_blowfish's marker for its sign-extension bug)")
    match = _BCRYPT.fullmatch(hashed)
    if match is None:
        raise _invalid(f"the {fmt} hash is not a bcrypt string ($2a$, $2b$ or $2y$, cost, 53 characters)")
    cost = int(match[2])
    if cost < MIN_BCRYPT_COST:
        raise _invalid(f"bcrypt cost {cost} is under the minimum of {MIN_BCRYPT_COST}")
    if cost > MAX_BCRYPT_COST:
        raise _too_costly(f"bcrypt cost {cost} is above the bound of {MAX_BCRYPT_COST}")
    return hashed


def _argon2(hashed: str, fmt: str) -> StoredHash:
    """An argon2id or argon2i PHC string, checked and rebuilt (standard base64, no padding)."""
    if hashed.startswith("$argon2d$"):
        raise _unsupported("argon2d")
    match = _ARGON2.fullmatch(hashed)
    if match is None:
        raise _invalid(f"the {fmt} hash is not an argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)")
    variant = match[1]
    if variant == "argon2d":
        raise _unsupported("argon2d")
    version = int(match[2]) if match[2] is not None else 16
    m, t, p = int(match[3]), int(match[4]), int(match[5])
    salt = _decoded(match[6], "the argon2 salt")
    key = _decoded(match[7], "the argon2 hash")
    if version not in (16, 19):
        raise _invalid(f"argon2 version {version} is neither 16 nor 19")
    if t < 1 or p < 1 or m < 8 * p:
        raise _invalid(f"argon2 parameters m={m}, t={t}, p={p} are under argon2's minimums (t ≥ 1, p ≥ 1, m ≥ 8·p)")
    if len(salt) < MIN_ARGON2_SALT_BYTES:
        raise _invalid(f"argon2 salt length {len(salt)} bytes is under {MIN_ARGON2_SALT_BYTES}")
    if len(key) < MIN_KEY_BYTES:
        raise _invalid(f"argon2 hash length {len(key)} bytes is under {MIN_KEY_BYTES}")
    if m > MAX_ARGON2_MEMORY_KIB:
        raise _too_costly(f"argon2 m {m} KiB is above the bound of {MAX_ARGON2_MEMORY_KIB}")
    if t > MAX_ARGON2_TIME:
        raise _too_costly(f"argon2 t {t} is above the bound of {MAX_ARGON2_TIME}")
    if m * t > MAX_ARGON2_MEMORY_TIME:
        raise _too_costly(f"argon2 m·t {m * t} is above the bound of {MAX_ARGON2_MEMORY_TIME}")
    if p > MAX_ARGON2_PARALLELISM:
        raise _too_costly(f"argon2 p {p} is above the bound of {MAX_ARGON2_PARALLELISM}")
    if len(salt) > MAX_SALT_BYTES:
        raise _too_costly(f"argon2 salt length {len(salt)} bytes is above the bound of {MAX_SALT_BYTES}")
    if len(key) > MAX_KEY_BYTES:
        raise _too_costly(f"argon2 hash length {len(key)} bytes is above the bound of {MAX_KEY_BYTES}")
    scheme = ARGON2ID if variant == "argon2id" else ARGON2I
    return StoredHash(scheme.name, f"${variant}$v={version}$m={m},t={t},p={p}${b64(salt)}${b64(key)}")


def _pbkdf2(found: Pbkdf2Hash) -> StoredHash:
    problem = found.invalid()
    if problem is not None:
        raise _invalid(problem)
    problem = found.too_costly()
    if problem is not None:
        raise _too_costly(problem)
    return StoredHash(pbkdf2_family.BY_DIGEST[found.digest].name, found.encode())


def _scrypt(found: ScryptHash) -> StoredHash:
    problem = found.invalid()
    if problem is not None:
        raise _invalid(problem)
    problem = found.too_costly()
    if problem is not None:
        raise _too_costly(problem)
    return StoredHash(scrypt_family.SCRYPT.name, found.encode())


def _log2(n: int, what: str) -> int:
    """log2 of scrypt's N, which must be a power of two of at least 2."""
    if n < 2 or n & (n - 1):
        raise _invalid(f"{what} N {n} is not a power of two of at least 2")
    return n.bit_length() - 1


def _text_salt(salt: str, fmt: str) -> bytes:
    if not salt:
        raise _invalid(f"the {fmt} salt is empty")
    return salt.encode("utf-8")


# --- formats ----------------------------------------------------------------------------------


def _authgate(hashed: str, scheme: str) -> StoredHash:
    _check_unsupported(hashed)
    if scheme == ARGON2ID.name:
        found = _argon2(hashed, "authgate")
        if found.scheme != ARGON2ID.name:
            raise _invalid("the authgate hash is not argon2id, as password.scheme says")
        return found
    return StoredHash(scheme, _bcrypt(hashed, "authgate"))


def _bcrypt_format(hashed: str) -> StoredHash:
    _check_unsupported(hashed)
    return StoredHash(BCRYPT.name, _bcrypt(hashed, "bcrypt"))


def _argon2_format(hashed: str) -> StoredHash:
    _check_unsupported(hashed)
    return _argon2(hashed, "argon2")


def _pbkdf2_format(hashed: str) -> StoredHash:
    _check_unsupported(hashed)
    phc = _PHC_PBKDF2.fullmatch(hashed)
    if phc is not None:
        salt = _decoded(phc[4], "the PBKDF2 salt")
        key = _decoded(phc[5], "the PBKDF2 hash")
        if phc[3] is not None and int(phc[3]) != len(key):
            raise _invalid(f"the PBKDF2 hash decodes to {len(key)} bytes, not l={int(phc[3])}")
        return _pbkdf2(Pbkdf2Hash(phc[1], int(phc[2]), salt, key))
    passlib = _PASSLIB_PBKDF2.fullmatch(hashed)
    if passlib is not None:  # passlib's "ab64": `.` for `+`, no padding
        salt = _decoded(passlib[3].replace(".", "+"), "the PBKDF2 salt")
        key = _decoded(passlib[4].replace(".", "+"), "the PBKDF2 hash")
        return _pbkdf2(Pbkdf2Hash(passlib[1], int(passlib[2]), salt, key))
    raise _invalid(
        "the pbkdf2 hash is neither $pbkdf2-<sha1|sha256|sha512>$i=…,l=…$salt$hash "
        "nor passlib's $pbkdf2-<sha256|sha512>$<iterations>$salt$hash"
    )


def _scrypt_format(hashed: str) -> StoredHash:
    _check_unsupported(hashed)
    match = _PHC_SCRYPT.fullmatch(hashed)
    if match is None:
        raise _invalid("the scrypt hash is not a PHC string ($scrypt$ln=…,r=…,p=…$salt$hash)")
    ln = int(match[1])
    log_n = _log2(ln, "scrypt (Kratos)") if ln >= KRATOS_LN else ln
    salt = _decoded(match[4], "the scrypt salt")
    key = _decoded(match[5], "the scrypt hash")
    return _scrypt(ScryptHash(log_n, int(match[2]), int(match[3]), salt, key))


def _django(hashed: str) -> StoredHash:
    if hashed.startswith("!"):
        raise _unsupported("Django's unusable password (!…)")
    label, dollar, rest = hashed.partition("$")
    if not dollar:
        raise _invalid("the django hash is not <algorithm>$…")
    if label in _DJANGO_UNSUPPORTED:
        raise _unsupported(_DJANGO_UNSUPPORTED[label])
    if label in _DJANGO_PBKDF2:
        digest = _DJANGO_PBKDF2[label]
        parts = rest.split("$")
        if len(parts) != 3:
            raise _invalid(f"the django {label} hash is not {label}$<iterations>$<salt>$<hash>")
        iterations = _digits(parts[0], f"the django {label} iteration count")
        key = _decoded(parts[2], f"the django {label} hash")
        if len(key) != pbkdf2_family.DIGEST_BYTES[digest]:
            raise _invalid(f"the django {label} hash is {len(key)} bytes, not the digest's")
        return _pbkdf2(Pbkdf2Hash(digest, iterations, _text_salt(parts[1], "django"), key))
    if label == "argon2":
        if rest.startswith("argon2d$"):
            raise _unsupported("argon2d")
        return _argon2("$" + rest, "django argon2")
    if label == "scrypt":
        parts = rest.split("$")
        if len(parts) != 5:
            raise _invalid("the django scrypt hash is not scrypt$<N>$<salt>$<r>$<p>$<hash>")
        n = _digits(parts[0], "the django scrypt N")
        r = _digits(parts[2], "the django scrypt r")
        p = _digits(parts[3], "the django scrypt p")
        key = _decoded(parts[4], "the django scrypt hash")
        if len(key) != _DJANGO_SCRYPT_KEY_BYTES:
            raise _invalid(f"the django scrypt hash is {len(key)} bytes, not {_DJANGO_SCRYPT_KEY_BYTES}")
        return _scrypt(ScryptHash(_log2(n, "django scrypt"), r, p, _text_salt(parts[1], "django"), key))
    if label == "bcrypt_sha256":
        return StoredHash(DJANGO_BCRYPT_SHA256.name, _bcrypt(rest, "django bcrypt_sha256"))
    if label == "bcrypt":
        return StoredHash(BCRYPT.name, _bcrypt(rest, "django bcrypt"))
    raise _unsupported(
        "Django hashers other than pbkdf2_sha256, pbkdf2_sha1, argon2, scrypt, bcrypt_sha256 and bcrypt:"
    )


def _werkzeug(hashed: str) -> StoredHash:
    method, dollar, rest = hashed.partition("$")
    name, *args = method.split(":")
    if name not in ("pbkdf2", "scrypt"):
        if not dollar:
            raise _invalid("the werkzeug hash is not <method>$<salt>$<hash>")
        raise _unsupported(_WERKZEUG_UNSUPPORTED.get(name, "werkzeug methods other than pbkdf2 and scrypt:"))
    parts = rest.split("$")
    if not dollar or len(parts) != 2:
        raise _invalid(f"the werkzeug {name} hash is not {name}:…$<salt>$<hex>")
    salt_text, hexed = parts
    if not _HEX.fullmatch(hexed):
        raise _invalid(f"the werkzeug {name} hash is not hex")
    key = bytes.fromhex(hexed)
    if name == "pbkdf2":
        if len(args) != 2:
            raise _invalid("the werkzeug pbkdf2 hash does not write both its digest and its iterations")
        digest, iterations = args[0], _digits(args[1], "the werkzeug pbkdf2 iteration count")
        if digest == "md5":
            raise _unsupported("werkzeug PBKDF2-HMAC-MD5")
        if digest not in pbkdf2_family.DIGEST_BYTES:
            raise _unsupported("werkzeug PBKDF2 with a digest other than SHA-1, SHA-256 or SHA-512")
        if len(key) != pbkdf2_family.DIGEST_BYTES[digest]:
            raise _invalid(f"the werkzeug pbkdf2 hash is {len(key)} bytes, not the digest's")
        return _pbkdf2(Pbkdf2Hash(digest, iterations, _text_salt(salt_text, "werkzeug"), key))
    if len(args) != 3:
        raise _invalid("the werkzeug scrypt hash does not write its N, r and p")
    n = _digits(args[0], "the werkzeug scrypt N")
    r = _digits(args[1], "the werkzeug scrypt r")
    p = _digits(args[2], "the werkzeug scrypt p")
    if len(key) != _WERKZEUG_SCRYPT_KEY_BYTES:
        raise _invalid(f"the werkzeug scrypt hash is {len(key)} bytes, not {_WERKZEUG_SCRYPT_KEY_BYTES}")
    return _scrypt(ScryptHash(_log2(n, "werkzeug scrypt"), r, p, _text_salt(salt_text, "werkzeug"), key))


def _firebase(hashed: str, row: Mapping[str, object]) -> StoredHash:
    salt_text = _string(row, "salt", "password.salt")
    params = row.get("params")
    if params is None:
        raise _missing("password.params")
    if not isinstance(params, dict):
        raise _wrong_type("password.params", "an object")
    for key in params:
        if key not in FIREBASE_PARAMS:
            raise _unknown(f"password.params.{key}")
    signer_text = _string(params, "signerKey", "password.params.signerKey")
    separator_text = _string(params, "saltSeparator", "password.params.saltSeparator")
    rounds = _integer(params, "rounds", "password.params.rounds")
    mem_cost = _integer(params, "memCost", "password.params.memCost")
    for text, field in (
        (salt_text, "password.salt"),
        (separator_text, "password.params.saltSeparator"),
        (signer_text, "password.params.signerKey"),
    ):
        if len(text) > _MAX_B64_CHARS:  # longer than the base64 of MAX_SALT_BYTES: not decoded
            raise _too_costly(f"{field} is above the bound of {MAX_SALT_BYTES} bytes", field)
    found = FirebaseHash(
        rounds,
        mem_cost,
        _decoded(salt_text, "the firebase-scrypt salt", "password.salt"),
        _decoded(separator_text, "the firebase-scrypt saltSeparator", "password.params.saltSeparator"),
        _decoded(signer_text, "the firebase-scrypt signerKey", "password.params.signerKey"),
        _decoded(hashed, "the firebase-scrypt hash"),
    )
    if rounds < 1:
        raise _invalid(f"firebase-scrypt rounds {rounds} is under 1", "password.params.rounds")
    if mem_cost < 1:
        raise _invalid(f"firebase-scrypt memCost {mem_cost} is under 1", "password.params.memCost")
    bound = scrypt_family.MAX_FIREBASE_ROUNDS
    if rounds > bound:
        raise _too_costly(f"firebase-scrypt rounds {rounds} is above the bound of {bound}", "password.params.rounds")
    bound = scrypt_family.MAX_FIREBASE_MEM_COST
    if mem_cost > bound:
        raise _too_costly(
            f"firebase-scrypt memCost {mem_cost} is above the bound of {bound}", "password.params.memCost"
        )
    salted = len(found.salt) + len(found.separator)
    if salted > MAX_SALT_BYTES:
        raise _too_costly(
            f"firebase-scrypt salt and saltSeparator are {salted} bytes, above the bound of {MAX_SALT_BYTES}",
            "password.salt",
        )
    problem = found.invalid()
    if problem is not None:
        raise _invalid(problem)
    problem = found.too_costly()
    if problem is not None:
        raise _too_costly(problem)
    return StoredHash(scrypt_family.FIREBASE_SCRYPT.name, found.encode())


_PLAIN_FORMATS: dict[str, Callable[[str], StoredHash]] = {
    "bcrypt": _bcrypt_format,
    "argon2": _argon2_format,
    "pbkdf2": _pbkdf2_format,
    "scrypt": _scrypt_format,
    "django": _django,
    "werkzeug": _werkzeug,
}
FORMATS = ("authgate", *_PLAIN_FORMATS, "firebase-scrypt")


# --- the row ----------------------------------------------------------------------------------


def _missing(field: str) -> Refused:
    return Refused("validation_failed", f"{field} is required", field)


def _unknown(field: str) -> Refused:
    return Refused("validation_failed", f"{field} is not a field authgate knows here", field)


def _wrong_type(field: str, expected: str) -> Refused:
    return Refused("validation_failed", f"{field} must be {expected}", field)


def _string(row: Mapping[str, object], key: str, field: str) -> str:
    if key not in row or row[key] is None:
        raise _missing(field)
    value = row[key]
    if not isinstance(value, str):
        raise _wrong_type(field, "a string")
    return value


def _integer(row: Mapping[str, object], key: str, field: str) -> int:
    if key not in row or row[key] is None:
        raise _missing(field)
    value = row[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(field, "an integer")
    return value


def parse(password: object) -> StoredHash:
    """The scheme and canonical stored string of one import row's `password` object (a JSON
    value as `json.loads` gives it); `Refused` if it cannot be imported. Runs no hash."""
    if not isinstance(password, dict):
        raise _wrong_type("password", "an object")
    for key in password:
        if key not in FIELDS:
            raise _unknown(f"password.{key}")
    fmt = _string(password, "format", "password.format")
    if fmt not in FORMATS:
        raise Refused(
            "unsupported_hash",
            f"password.format is not one authgate imports ({', '.join(FORMATS)}): {ADVICE}",
            "password.format",
        )
    extra = {"scheme"} if fmt == "authgate" else {"salt", "params"} if fmt == "firebase-scrypt" else set()
    for key in sorted(FIELDS - {"format", "hash"} - extra):
        if key in password:
            raise _unknown(f"password.{key}")
    hashed = _string(password, "hash", "password.hash")
    if len(hashed) > MAX_HASH_CHARS:
        raise _too_costly(f"the hash is {len(hashed)} characters, above the bound of {MAX_HASH_CHARS}")
    if fmt == "authgate":
        scheme = password.get("scheme", BCRYPT_SHA256.name)
        if not isinstance(scheme, str):
            raise _wrong_type("password.scheme", "a string")
        if scheme not in AUTHGATE_SCHEMES:
            raise Refused(
                "validation_failed",
                f"password.scheme must be one of {', '.join(sorted(AUTHGATE_SCHEMES))}",
                "password.scheme",
            )
        return _authgate(hashed, scheme)
    if fmt == "firebase-scrypt":
        return _firebase(hashed, password)
    return _PLAIN_FORMATS[fmt](hashed)
