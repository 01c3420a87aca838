"""Helpers the audit-trail tests share."""

from __future__ import annotations

from typing import Any

import httpx

from authgate.services import audit
from authgate.services.admin import users as users_admin
from authgate.storage.audit_chain import Verdict
from tests.support.app import runtime
from tests.support.http import STRONG_PASSWORD, bearer

AGENT = "audit-test/1.0"


async def auditor(client: httpx.AsyncClient, email: str = "root@example.com") -> dict[str, str]:
    """Headers of a signed-in admin (who holds `audit:read` through `*`)."""
    await users_admin.create_user(runtime(client), email=email, password=STRONG_PASSWORD, role="admin")
    response = await client.post("/login", json={"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


async def logs(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/audit/logs", headers=headers, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def verdict(client: httpx.AsyncClient) -> Verdict:
    return await audit.verify(runtime(client))
