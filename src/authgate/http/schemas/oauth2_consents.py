"""The apps a user allowed (`GET /oauth2/consents`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from authgate.services.oauth2.consents import Consent
from authgate.wire import iso_z


class ConsentOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    client_id: str = Field(alias="clientId")
    client_name: str = Field(alias="clientName")
    scopes: list[str]
    granted_at: str = Field(alias="grantedAt")

    @classmethod
    def of(cls, consent: Consent) -> ConsentOut:
        return cls(
            client_id=consent.client_id,
            client_name=consent.client_name,
            scopes=consent.scopes,
            granted_at=iso_z(consent.granted_at),
        )
