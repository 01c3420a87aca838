"""Webhook subscriptions and their deliveries (`webhooks:manage`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from authgate.core.principal import Principal
from authgate.http.deps import RuntimeDep, require_caps
from authgate.http.schemas.webhooks import (
    DeliveryOut,
    DeliveryPageOut,
    RotateSecretIn,
    WebhookChangeIn,
    WebhookIn,
    WebhookOut,
    WebhookSecretOut,
    WebhooksOut,
)
from authgate.services import webhooks
from authgate.services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(tags=["webhooks"])

Manager = Annotated[Principal, require_caps("webhooks:manage")]
NO_STORE = {"Cache-Control": "no-store"}  # the secret must not linger in a cache


def _with_secret(created: webhooks.Created, status_code: int) -> Response:
    body = WebhookSecretOut.with_secret(created.webhook, created.secret).model_dump_json(by_alias=True)
    return Response(body, status_code=status_code, media_type="application/json", headers=NO_STORE)


@router.get("/webhooks", response_model=WebhooksOut, responses={403: {}})
async def list_webhooks(_manager: Manager, rt: RuntimeDep) -> WebhooksOut:
    return WebhooksOut(items=[WebhookOut.of(w) for w in await webhooks.list_webhooks(rt)])


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookSecretOut, responses={403: {}})
async def create_webhook(body: WebhookIn, _manager: Manager, rt: RuntimeDep) -> Response:
    """The answer carries the signing secret (`whsec_…`): it is shown this once."""
    created = await webhooks.create_webhook(
        rt, url=body.url, events=body.events, active=body.active, description=body.description
    )
    return _with_secret(created, status.HTTP_201_CREATED)


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, responses={403: {}, 404: {}})
async def get_webhook(webhook_id: str, _manager: Manager, rt: RuntimeDep) -> WebhookOut:
    return WebhookOut.of(await webhooks.get_webhook(rt, webhook_id=webhook_id))


@router.put("/webhooks/{webhook_id}", response_model=WebhookOut, responses={403: {}, 404: {}})
async def update_webhook(webhook_id: str, body: WebhookChangeIn, _manager: Manager, rt: RuntimeDep) -> WebhookOut:
    change = webhooks.WebhookChange(url=body.url, events=body.events, active=body.active, description=body.description)
    return WebhookOut.of(await webhooks.update_webhook(rt, webhook_id=webhook_id, change=change))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={403: {}, 404: {}},
)
async def delete_webhook(webhook_id: str, _manager: Manager, rt: RuntimeDep) -> Response:
    await webhooks.delete_webhook(rt, webhook_id=webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=WebhookSecretOut, responses={403: {}, 404: {}})
async def rotate_secret(
    webhook_id: str, _manager: Manager, rt: RuntimeDep, body: RotateSecretIn | None = None
) -> Response:
    """A new secret, shown this once; the previous one keeps signing beside it for
    `graceSeconds` (default a day; 0 stops it at once)."""
    grace = body.grace_seconds if body is not None else None
    return _with_secret(await webhooks.rotate_secret(rt, webhook_id=webhook_id, grace_seconds=grace), 200)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPageOut, responses={403: {}, 404: {}})
async def list_deliveries(
    webhook_id: str,
    _manager: Manager,
    rt: RuntimeDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> DeliveryPageOut:
    """Newest first: status, attempts and the last error of each."""
    page = await webhooks.list_deliveries(rt, webhook_id=webhook_id, cursor=cursor, limit=limit)
    return DeliveryPageOut(items=[DeliveryOut.of(row) for row in page.items], next_cursor=page.next_cursor)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses={403: {}, 404: {}},
)
async def redeliver(webhook_id: str, delivery_id: str, _manager: Manager, rt: RuntimeDep) -> DeliveryOut:
    """Queue the delivery's event again, as a new delivery (same `webhook-id`)."""
    return DeliveryOut.of(await webhooks.redeliver(rt, webhook_id=webhook_id, delivery_id=delivery_id))
