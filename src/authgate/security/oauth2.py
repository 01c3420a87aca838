"""The OpenID Connect provider's pure rules: registered redirect URIs and how a request's one
is matched, scopes, PKCE, `at_hash`, `acr`, and adding parameters to a redirect URI.

Redirect URIs are compared as exact strings (RFC 9700 §4.1.3); the one exception is a public
client's loopback URI, whose port may differ (RFC 8252 §7.3: a native app listens on any free
port). PKCE and the half hash come from authlib, never from our own code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authgate.security.text import has_control_characters

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"
STANDARD_SCOPES = ("openid", "profile", "email", "phone", "offline_access")
SCOPE_NAME = re.compile(r"[a-z0-9:._-]{1,64}")
DEFAULT_APP_SCOPES = ("openid", "profile", "email")
MAX_REDIRECT_URIS = 20
MAX_URI_LENGTH = 2048
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43,128}")
_PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+")  # reverse domain name: com.example.app
# Channels whose proofs count as independent factors: two of them make `acr` "2".
_TWO_FACTOR_AMR = "mfa"


class BadRedirectUri(ValueError):
    """A redirect URI that may not be registered; the message says why (safe to show)."""


def checked_redirect_uri(uri: str, *, public: bool) -> str:
    """`uri` if it may be registered: absolute, no fragment, wildcard or userinfo; https, or
    http on loopback only; a private-use scheme (`com.example.app:/cb`) for public clients only."""
    if not uri or len(uri) > MAX_URI_LENGTH or has_control_characters(uri) or " " in uri:
        raise BadRedirectUri(f"An absolute URI of at most {MAX_URI_LENGTH} characters, without spaces.")
    if "*" in uri:
        raise BadRedirectUri("Wildcards are not allowed; register each URI exactly.")
    parts = urlsplit(uri)
    if "#" in uri:
        raise BadRedirectUri("A redirect URI has no fragment.")
    if parts.scheme in ("http", "https"):
        if not parts.netloc or parts.hostname is None:
            raise BadRedirectUri("An http(s) redirect URI names a host.")
        if "@" in parts.netloc:
            raise BadRedirectUri("A redirect URI has no user information.")
        if parts.scheme == "http" and _host(parts.netloc) not in LOOPBACK_HOSTS:
            raise BadRedirectUri("Plain http only on 127.0.0.1, [::1] or localhost; use https.")
        return uri
    if not parts.scheme or not _PRIVATE_SCHEME.fullmatch(parts.scheme):
        raise BadRedirectUri("Use https, http on loopback, or a private-use scheme such as com.example.app:/callback.")
    if not public:
        raise BadRedirectUri("A private-use scheme is for public (native) clients only.")
    if parts.netloc and "@" in parts.netloc:
        raise BadRedirectUri("A redirect URI has no user information.")
    return uri


def _host(netloc: str) -> str:
    """The host part of `netloc`, as written (`[::1]` keeps its brackets), lower-cased."""
    host = netloc.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[: host.find("]") + 1].lower()
    return host.split(":", 1)[0].lower()


def redirect_uri_matches(registered: Iterable[str], requested: str, *, public: bool) -> bool:
    """Exact string match; for a public client, a loopback IP literal's port may differ."""
    if requested in registered:
        return True
    if not public:
        return False
    asked = urlsplit(requested)
    if asked.scheme != "http" or _host(asked.netloc) not in ("127.0.0.1", "[::1]"):
        return False
    for uri in registered:
        known = urlsplit(uri)
        if known.scheme == "http" and _host(known.netloc) == _host(asked.netloc):
            if (known.path, known.query) == (asked.path, asked.query) and "@" not in asked.netloc:
                return True
    return False


def redirect_origin(uri: str) -> str:
    """What a CSP `form-action` names to allow a redirect to `uri`: its origin, or for a
    private-use scheme the scheme (`com.example.app:`)."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}".lower()
    return f"{parts.scheme}:"


def with_query(uri: str, params: dict[str, str | None]) -> str:
    """`uri` with `params` added to its query (those it has kept; None values left out)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((name, value) for name, value in params.items() if value is not None)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def scope_list(text: str | None) -> list[str]:
    """Space-separated scope names, in order, each once."""
    seen: list[str] = []
    for name in (text or "").split(" "):
        if name and name not in seen:
            seen.append(name)
    return seen


def is_scope_name(name: str) -> bool:
    return bool(SCOPE_NAME.fullmatch(name))


def within(requested: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The requested scopes the client may have, in the request's order (RFC 6749 §3.3: the
    others are dropped); `offline_access` only with `openid` (OIDC Core §11)."""
    ceiling = set(allowed)
    kept = [name for name in requested if name in ceiling]
    if OFFLINE_ACCESS in kept and OPENID not in kept:
        kept.remove(OFFLINE_ACCESS)
    return kept


def custom_scopes(scopes: Iterable[str]) -> list[str]:
    return [name for name in scopes if name not in STANDARD_SCOPES]


def is_code_challenge(challenge: str) -> bool:
    """43 to 128 characters of base64url: what an S256 challenge is (RFC 7636 §4.2)."""
    return bool(_CODE_CHALLENGE.fullmatch(challenge))


def verifier_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6 with S256, through authlib (loaded at the first exchange, so a server that
    is no provider never loads it); a verifier of the wrong form never matches."""
    from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN, compare_s256_code_challenge

    if not CODE_VERIFIER_PATTERN.fullmatch(verifier):
        return False
    return bool(compare_s256_code_challenge(verifier, challenge))


def at_hash(access_token: str) -> str:
    """The ID token's `at_hash` for an RS256 token (OIDC Core §3.1.3.6), through authlib."""
    from authlib.oidc.core.util import create_half_hash

    half: bytes = create_half_hash(access_token, "RS256")
    return half.decode("ascii")


def acr_of(amr: Iterable[str]) -> str:
    """`"2"` when the session proved two independent factors (a second step, or a passkey that
    counts as both), else `"1"`."""
    methods = set(amr)
    if _TWO_FACTOR_AMR in methods or len(methods) >= 2:
        return "2"
    return "1"
