"""Asking authgate whether a token is still active (RFC 7662), for services that must see a
revocation at once rather than when the token expires.

Answers are cached per token for a few seconds, and concurrent requests with one token share
one call. A call that fails (authgate unreachable, an error status, service credentials
refused) refuses the request with 503: it is never taken as "active".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from urllib.parse import quote_plus

import httpx

from authgate.client._cache import AnswerCache
from authgate.client._errors import unavailable

log = logging.getLogger("authgate.client")


class Introspector:
    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        http: Callable[[], httpx.AsyncClient],
        *,
        cache_seconds: float,
        max_entries: int,
    ) -> None:
        self.url = url
        # RFC 6749 §2.3.1: each part form-urlencoded before Basic encoding, as authgate decodes it.
        self._auth = httpx.BasicAuth(quote_plus(client_id), quote_plus(client_secret))
        self._http = http
        self._answers = AnswerCache(cache_seconds, max_entries)
        self._asking: dict[str, asyncio.Task[bool | None]] = {}

    async def active(self, token: str, digest: str) -> bool:
        """authgate's answer for `token` (whose digest is `digest`); raises 503 without one."""
        cached = self._answers.get(digest)
        if cached is not None:
            return cached
        task = self._asking.get(digest)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._ask(token, digest))
            self._asking[digest] = task
            task.add_done_callback(lambda done: self._forget(digest, done))
        answer = await asyncio.shield(task)
        if answer is None:
            raise unavailable("authgate cannot be asked whether the token is still active.")
        return answer

    def _forget(self, digest: str, task: asyncio.Task[bool | None]) -> None:
        if self._asking.get(digest) is task:
            del self._asking[digest]

    async def _ask(self, token: str, digest: str) -> bool | None:
        try:
            response = await self._http().post(
                self.url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._auth,
                headers={"Accept": "application/json"},
                follow_redirects=False,
            )
        except Exception as exc:
            log.warning("authgate introspection at %s failed: %s", self.url, type(exc).__name__)
            return None
        if response.status_code != 200:
            hint = " (are client_id and client_secret a service credential?)" if response.status_code == 401 else ""
            log.warning("authgate introspection at %s answered %s%s", self.url, response.status_code, hint)
            return None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
            log.warning("authgate introspection at %s answered without a boolean 'active'", self.url)
            return None
        active: bool = body["active"]
        self._answers.put(digest, active)
        return active
