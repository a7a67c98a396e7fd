"""What the control plane accepts to create a tenant and rotate its password."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from app.vocabulary import CLOCK_MODES, DEFAULT_CLOCK_MODE
from app.wire.inputs.base import BoundedList, Duration, WireSchema, one_of, text

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$"
RULES_MAX = 50


class TenantClockSchema(WireSchema):
    """The clock each of the tenant's runs gets, starting when its søknad arrives."""

    mode = fields.String(load_default=DEFAULT_CLOCK_MODE, validate=one_of(CLOCK_MODES, "mode"))
    factor = fields.Float(
        load_default=None,
        validate=validate.Range(min=0, min_inclusive=False, max=10_000_000),
        metadata={"description": "accelerated: virtual seconds per real second (86400 = a day)."},
    )
    step = Duration(
        load_default=None,
        metadata={"description": "on_poll: how far each client request moves the clock."},
    )

    @validates_schema
    def _mode_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["mode"] == "on_poll" and not data["step"]:
            raise ValidationError("Klokke i modus on_poll trenger 'step', f.eks. PT6H.", "step")


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
