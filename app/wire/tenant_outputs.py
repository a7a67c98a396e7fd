"""Marshmallow schemas of what the control plane answers about tenants."""

from __future__ import annotations

from marshmallow import fields

from app.wire.outputs import Strict

TEXT = fields.String


class TenantCredentialsOut(Strict):
    """The tenant's credentials: the only answer that shows the password."""

    username = TEXT(required=True)
    password = TEXT(required=True)


class TenantOut(Strict):
    """A tenant as the control plane describes it (never its password)."""

    name = TEXT(required=True)
    username = TEXT(required=True)
    scenario = TEXT(allow_none=True)
    rules = fields.List(fields.Dict(), required=True)
    clock = fields.Dict(required=True)
    retention = TEXT(required=True, metadata={"example": "P30D"})
    next = TEXT(
        allow_none=True,
        metadata={"description": "The scenario picked for the next søknad (one søknad plays it)."},
    )
    createdAt = TEXT(required=True, metadata={"format": "date-time"})
    runCount = fields.Integer()
    credentials = fields.Nested(TenantCredentialsOut)


class TenantListOut(Strict):
    """Every tenant, by name."""

    tenants = fields.List(fields.Nested(TenantOut), required=True)


class TenantRunOut(Strict):
    """One of a tenant's runs: what it plays, its references, its state, its removal."""

    id = TEXT(required=True)
    scenario = TEXT(allow_none=True)
    innsendingReferanser = fields.List(TEXT(), required=True)
    status = TEXT(required=True, metadata={"description": "active or finished"})
    milepael = fields.List(TEXT(allow_none=True), required=True)
    createdAt = TEXT(required=True, metadata={"format": "date-time"})
    lastExchangeAt = TEXT(allow_none=True, metadata={"format": "date-time"})
    expiresAt = TEXT(
        required=True,
        metadata={"format": "date-time", "description": "Last exchange + the retention."},
    )


class TenantRunsOut(Strict):
    """A tenant's runs, newest first."""

    tenant = TEXT(required=True)
    runs = fields.List(fields.Nested(TenantRunOut), required=True)
