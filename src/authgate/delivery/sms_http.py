"""SMS through a webhook: a JSON `POST {"to", "body"}` to AUTHGATE_SMS_WEBHOOK_URL; any 2xx
answer means accepted."""

from __future__ import annotations

import httpx

from authgate.delivery.base import DeliveryError, Message


class SmsWebhookChannel:
    name = "sms_http"

    def __init__(self, *, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def send(self, message: Message) -> None:
        try:
            response = await self._client.post(self.url, json={"to": message.to, "body": message.text})
        except httpx.HTTPError as exc:
            # The URL may carry a provider key in its query: name the failure, never the URL.
            raise DeliveryError(f"SMS webhook request failed: {type(exc).__name__}") from None
        if not response.is_success:
            raise DeliveryError(f"SMS webhook answered HTTP {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()
