"""The authenticator-app MFA flow, verbatim under /api/auth, against a real `authgate serve` process,
with pyotp as the authenticator app."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.mfa import Authenticator
from tests.support.server import running_server

pytestmark = pytest.mark.slow

PASSWORD = "Flow-Secret-000"


def test_documented_mfa_flow(tmp_path: Path, server_database: dict[str, str]) -> None:
    with (
        running_server(tmp_path, **server_database) as base,
        httpx.Client(base_url=f"{base}/api/auth", timeout=10) as http,
    ):
        reg = http.post("/register", json={"email": "user@example.com", "password": PASSWORD})
        assert reg.status_code == 201, reg.text
        auth = {"Authorization": f"Bearer {reg.json()['token']}"}

        # 1. Start MFA setup (returns a secret + QR code URL)
        setup = http.post("/mfa/setup", headers=auth)
        assert setup.status_code == 200, setup.text
        secret = setup.json()["secret"]
        assert setup.json()["qrCodeUrl"].startswith("data:image/")
        app = Authenticator(secret)

        # 2. Enable MFA (verify with first TOTP code)
        enable = http.post(
            "/mfa/enable",
            headers={**auth, "Content-Type": "application/json"},
            json={"secret": secret, "verificationCode": app.code_sync()},
        )
        assert enable.status_code == 200, enable.text
        recovery = enable.json()["recoveryCodes"]
        assert len(recovery) == 10

        # Login without the code stops at the second factor ...
        bare = http.post("/login", json={"email": "user@example.com", "password": PASSWORD})
        assert bare.status_code == 401
        assert bare.json()["code"] == "mfa_required"
        mfa_token = bare.json()["mfaToken"]
        assert http.get("/profile", headers={"Authorization": f"Bearer {mfa_token}"}).status_code == 401
        # ... and /mfa/verify finishes it (here with a recovery code).
        verified = http.post("/mfa/verify", json={"mfaToken": mfa_token, "code": recovery[0]})
        assert verified.status_code == 200, verified.text

        # Login with the MFA code, as the documented flow shows it.
        login = http.post(
            "/login",
            headers={"Content-Type": "application/json"},
            json={"email": "user@example.com", "password": PASSWORD, "mfaCode": app.code_sync()},
        )
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        assert login.json()["user"]["mfaEnabled"] is True

        # Disable MFA with a current code.
        disable = http.post(
            "/mfa/disable",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            json={"verificationCode": app.code_sync()},
        )
        assert disable.status_code == 200, disable.text

        after = http.post("/login", json={"email": "user@example.com", "password": PASSWORD})
        assert after.status_code == 200, after.text
        assert after.json()["user"]["mfaEnabled"] is False
