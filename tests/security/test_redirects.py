"""The redirect allow-list check, attacked with the known open-redirect tricks of peer servers and their cousins."""

from __future__ import annotations

import pytest

from authgate.security.redirects import (
    UnsafeRedirect,
    allowed_targets,
    app_entry,
    check_redirect,
    origin_of,
    with_query,
)

ALLOWED = ["https://app.com", "http://localhost:3000"]
BASE = "https://auth.app.com/base"


def check(value: str, allowed: list[str] | None = None) -> str:
    return check_redirect(value, allowed=ALLOWED if allowed is None else allowed, base_url=BASE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://app.com", "https://app.com"),
        ("https://app.com/", "https://app.com/"),
        ("https://app.com/welcome?x=1#top", "https://app.com/welcome?x=1#top"),
        ("HTTPS://APP.COM/Path", "HTTPS://APP.COM/Path"),
        ("https://app.com:443/x", "https://app.com:443/x"),
        ("http://localhost:3000/cb", "http://localhost:3000/cb"),
        ("https://app.com/next?to=%2Fhome", "https://app.com/next?to=%2Fhome"),
        ("https://app.com/a@b", "https://app.com/a@b"),
    ],
)
def test_allowed_absolute(value: str, expected: str) -> None:
    assert check(value) == expected


@pytest.mark.parametrize("value", ["/dashboard", "/a/b?c=d#e", "/@evil.com", "/.evil.com"])
def test_relative_paths_resolve_against_the_public_origin(value: str) -> None:
    assert check(value, [*ALLOWED, "https://auth.app.com"]) == "https://auth.app.com" + value


def test_relative_path_refused_when_public_origin_not_allowed() -> None:
    with pytest.raises(UnsafeRedirect):
        check("/dashboard")


@pytest.mark.parametrize(
    "value",
    [
        # other origins, look-alikes
        "https://evil.com",
        "https://app.com.evil.com",
        "https://evilapp.com",
        "https://app.com.",
        "http://app.com",  # scheme is part of the origin
        "https://app.com:8443/",
        "http://localhost:3001/",
        "https://xn--pp-8cd.com",
        "https://\u0430pp.com",  # Cyrillic a
        # protocol-relative and slash/backslash games
        "//evil.com",
        "///evil.com",
        "////evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "\\/evil.com",
        "https:/\\evil.com",
        "https:\\\\evil.com",
        "https:/evil.com",
        "https:evil.com",
        "https:///evil.com",
        "https://app.com\\@evil.com",
        "https://evil.com\\.app.com",
        "https://app.com//evil.com",
        # userinfo
        "https://app.com@evil.com",
        "https://app.com:443@evil.com",
        "https://user:pass@app.com/",
        "https://evil.com#@app.com",
        "https://evil.com?@app.com",
        # encoded variants
        "%2F%2Fevil.com",
        "/%2F%2Fevil.com",
        "/%2fevil.com",
        "/%5Cevil.com",
        "/%5cevil.com",
        "/%252F%252Fevil.com",
        "https://app.com%2F@evil.com",
        "https://app.com%40evil.com",
        "https://app.com/%2F%2Fevil.com",
        "https://app.com/%5C%5Cevil.com",
        "https%3A%2F%2Fevil.com",
        "/%09/evil.com",
        "/%0d%0aSet-Cookie:x=1",
        # schemes
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "javascript://app.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "ftp://app.com/",
        "file:///etc/passwd",
        # control characters, whitespace, invisible characters
        "\t//evil.com",
        "/\t/evil.com",
        " https://app.com",
        "https://app.com/\n",
        "/\r\n/evil.com",
        "https://app.com/\x00",
        "/\u200b/evil.com",
        "/\u202e/moc.live",
        "https://app.com\u3000/",
        # plain nonsense
        "",
        "evil.com",
        "app.com/dashboard",
        "https://",
        "https://app.com:99999/",
        "https://app.com:port/",
        "/" + "a" * 3000,
    ],
)
def test_refused(value: str) -> None:
    with pytest.raises(UnsafeRedirect):
        check(value, [*ALLOWED, "https://auth.app.com"])


def test_default_allow_list_is_the_public_origin_and_the_apps() -> None:
    assert allowed_targets([], "https://auth.app.com/prefix", None) == ["https://auth.app.com"]
    assert allowed_targets([], "https://auth.app.com", "https://app.com/spa") == [
        "https://auth.app.com",
        "https://app.com",
    ]
    assert allowed_targets(["https://app.com"], "https://auth.app.com", "https://x.com") == ["https://app.com"]


APPS = [*ALLOWED, "myapp://auth", "com.example.app:/oauth"]


@pytest.mark.parametrize(
    "value",
    [
        "myapp://auth",
        "myapp://auth/cb",
        "MyApp://auth/cb?x=1",
        "myapp://auth?x=1",
        "com.example.app:/oauth",
        "com.example.app:/oauth/cb",
    ],
)
def test_an_apps_own_scheme_is_allowed_under_its_entry(value: str) -> None:
    assert check(value, APPS) == value


@pytest.mark.parametrize(
    "value",
    [
        "myapp://auth.evil/cb",  # another host of the scheme
        "myapp://auth@evil/cb",  # user information
        "myapp://authx",
        "myapp://other/cb",
        "otherapp://auth/cb",  # a scheme not listed
        "myapp:auth/cb",
        "myapp://auth%40evil/",
        "myapp://auth\\@evil",
        "myapp://auth/\x00",
        "javascript://auth/%0aalert(1)",
        "data://auth/x",
        "com.example.app:/oauthx",
        "com.example.app://oauth",
    ],
)
def test_an_apps_own_scheme_is_refused_outside_its_entry(value: str) -> None:
    with pytest.raises(UnsafeRedirect):
        check(value, APPS)


@pytest.mark.parametrize(
    "entry",
    [
        "javascript://x",
        "data://x",
        "file:///etc",
        "myapp:",
        "myapp://",
        "myapp:x",
        "myapp://a@b",
        "my_app://x",
        "ws://x",
    ],
)
def test_dangerous_or_vague_app_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        app_entry(entry)


def test_with_query_keeps_what_is_there() -> None:
    assert with_query("myapp://auth/cb?x=1", {"code": "a b"}) == "myapp://auth/cb?x=1&code=a+b"
    assert with_query("com.example.app:/oauth", {"code": "c"}) == "com.example.app:/oauth?code=c"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://App.Com:443/x", "https://app.com"),
        ("http://app.com:80", "http://app.com"),
        ("http://app.com:8080/", "http://app.com:8080"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
    ],
)
def test_origin_normalisation(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_ipv6_origin_allowed() -> None:
    assert check("http://[::1]:8000/x", ["http://[::1]:8000"]) == "http://[::1]:8000/x"
