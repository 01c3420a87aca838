"""Bodies of the webhook endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field

from authgate.http.schemas.accounts import In
from authgate.wire import iso_z


class Webhook(Protocol):
    id: str
    url: str
    events: str
    active: bool
    description: str | None
    previous_secret_until: datetime | None
    created_at: datetime
    updated_at: datetime


class Delivery(Protocol):
    id: str
    event_id: str | None
    kind: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None


class WebhookIn(In):
    url: str = Field(max_length=4096)
    events: list[str] = Field(max_length=100)
    active: bool = True
    description: str | None = Field(default=None, max_length=1000)


class WebhookChangeIn(In):
    url: str | None = Field(default=None, max_length=4096)
    events: list[str] | None = Field(default=None, max_length=100)
    active: bool | None = None
    description: str | None = Field(default=None, max_length=1000)


class RotateSecretIn(In):
    grace_seconds: int | None = Field(default=None, alias="graceSeconds")


class WebhookOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    url: str
    events: list[str]
    active: bool
    description: str | None
    previous_secret_expires_at: str | None = Field(serialization_alias="previousSecretExpiresAt")
    created_at: str = Field(serialization_alias="createdAt")
    updated_at: str = Field(serialization_alias="updatedAt")

    @classmethod
    def fields_of(cls, webhook: Webhook) -> dict[str, object]:
        until = webhook.previous_secret_until
        return {
            "id": webhook.id,
            "url": webhook.url,
            "events": orjson.loads(webhook.events),
            "active": webhook.active,
            "description": webhook.description,
            "previous_secret_expires_at": iso_z(until) if until else None,
            "created_at": iso_z(webhook.created_at),
            "updated_at": iso_z(webhook.updated_at),
        }

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls.model_validate(cls.fields_of(webhook))


class WebhookSecretOut(WebhookOut):
    """The webhook with its signing secret: shown once, on creation and on rotation."""

    secret: str

    @classmethod
    def with_secret(cls, webhook: Webhook, secret: str) -> WebhookSecretOut:
        return cls.model_validate({**cls.fields_of(webhook), "secret": secret})


class WebhooksOut(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    event_id: str | None = Field(serialization_alias="eventId")
    event_type: str = Field(serialization_alias="eventType")
    status: str  # pending, sent, failed (the dead letter: no more attempts), cancelled
    attempts: int
    last_error: str | None = Field(serialization_alias="lastError")
    next_attempt_at: str | None = Field(serialization_alias="nextAttemptAt")
    created_at: str = Field(serialization_alias="createdAt")
    delivered_at: str | None = Field(serialization_alias="deliveredAt")

    @classmethod
    def of(cls, row: Delivery) -> DeliveryOut:
        return cls(
            id=row.id,
            event_id=row.event_id,
            event_type=row.kind,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=iso_z(row.next_attempt_at) if row.status == "pending" else None,
            created_at=iso_z(row.created_at),
            delivered_at=iso_z(row.sent_at) if row.sent_at and row.status == "sent" else None,
        )


class DeliveryPageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    items: list[DeliveryOut]
    next_cursor: str | None = Field(serialization_alias="nextCursor")
