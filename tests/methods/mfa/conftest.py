"""Fixtures for the MFA tests: a user with TOTP enabled (see tests/support/mfa.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.mfa import MfaAccount, enrol


@pytest.fixture
async def account(client: httpx.AsyncClient) -> MfaAccount:
    return await enrol(client)
