"""BodyGuard's form-path patterns: only the reset form may post a form body."""

from __future__ import annotations

from authgate.http.middleware import _path_matches


def test_form_path_patterns() -> None:
    assert _path_matches("/password/reset/abc", "/password/reset/*")
    assert _path_matches("/api/v1/auth/password/reset/abc", "/password/reset/*")
    assert not _path_matches("/password/reset/", "/password/reset/*")
    assert not _path_matches("/password/reset", "/password/reset/*")
    assert not _path_matches("/password/forgot", "/password/reset/*")
    assert not _path_matches("/password/reset/abc/extra", "/password/reset/*")
    assert not _path_matches("/xpassword/reset/abc", "/password/reset/*")
    assert _path_matches("/a/form", "/form")
