"""What the control plane accepts to create a tenant and rotate its password."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from app.wire.inputs.base import BoundedList, Duration, WireSchema, text
from app.wire.inputs.runs import ClockSchema

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$"
RULES_MAX = 50


class TenantClockSchema(ClockSchema):
    """The clock each of the tenant's runs gets, starting when its søknad arrives (so no
    ``start``, and no waiting for a first request)."""

    class Meta(ClockSchema.Meta):
        exclude = ("start", "startsOnFirstRequest")


class TenantRuleSchema(WireSchema):
    """A rule that picks a scenario for a søknad without a marker; the first match wins."""

    soknadstype = fields.String(load_default=None, validate=text(100, least=1))
    tiltakstype = fields.String(load_default=None, validate=text(100, least=1))
    scenario = fields.String(required=True, validate=text(100, least=1))


class TenantCreateSchema(WireSchema):
    """POST /sandbox/tenants: a tenant with fixed credentials for a staging system."""

    name = fields.String(
        required=True,
        validate=validate.Regexp(
            NAME_PATTERN, error="Navnet: små bokstaver, sifre, '.', '_' eller '-', høyst 80."
        ),
    )
    username = fields.String(
        load_default=None,
        validate=validate.Regexp(
            USERNAME_PATTERN, error="Brukernavnet: bokstaver, sifre, '.', '_', '@' eller '-'."
        ),
        metadata={"description": "Unique across tenants and runs; default: the name."},
    )
    password = fields.String(
        load_default=None,
        validate=text(200, least=12),
        metadata={"description": "At least 12 characters; generated (and shown once) if absent."},
    )
    scenario = fields.String(
        load_default=None,
        validate=text(100, least=1),
        metadata={"description": "The scenario a søknad without marker or matching rule plays."},
    )
    rules = BoundedList(fields.Nested(TenantRuleSchema), most=RULES_MAX, load_default=list)
    clock = fields.Nested(TenantClockSchema, load_default=None)
    retention = Duration(
        load_default="P30D",
        metadata={"description": "How long a run is kept after its last exchange."},
    )

    @post_load
    def _username(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["username"] is None:
            data["username"] = data["name"]
        return data


class PasswordRotateSchema(WireSchema):
    """POST /sandbox/tenants/{name}/password: a new password, given or generated."""

    password = fields.String(load_default=None, validate=text(200, least=12))


class NextScenarioSchema(WireSchema):
    """PUT /sandbox/tenants/{name}/next: the scenario the tenant's next søknad plays."""

    scenario = fields.String(
        required=True,
        allow_none=True,
        validate=text(100, least=1),
        metadata={"description": "A scenario id of the library; null clears the pick."},
    )
