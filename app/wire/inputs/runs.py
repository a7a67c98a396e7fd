"""What the control plane accepts to start a run and move its clock."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from app import limits
from app.vocabulary import CLOCK_MODES, DEFAULT_CLOCK_MODE
from app.wire.inputs.base import Duration, UtcDateTime, WireSchema, one_of, text
from app.wire.inputs.submissions import InnsendingSchema


class ClockSchema(WireSchema):
    """The run's virtual clock: mode and an optional start time."""

    mode = fields.String(load_default=DEFAULT_CLOCK_MODE, validate=one_of(CLOCK_MODES, "mode"))
    start = UtcDateTime(load_default=None)
    factor = fields.Float(
        load_default=None,
        validate=validate.Range(min=0, min_inclusive=False, max=10_000_000),
        metadata={"description": "accelerated: virtual seconds per real second (86400 = a day)."},
    )
    step = Duration(
        load_default=None,
        metadata={"description": "on_poll: how far each client request moves the clock."},
    )
    startsOnFirstRequest = fields.Boolean(
        load_default=False,
        metadata={
            "description": "realtime or accelerated: stand still at the start until the "
            "client's first authenticated request, then run from there."
        },
    )

    @validates_schema
    def _mode_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["mode"] == "on_poll" and not data["step"]:
            raise ValidationError("Klokke i modus on_poll trenger 'step', f.eks. PT6H.", "step")
        # .get: the tenant's clock (TenantClockSchema) has no startsOnFirstRequest.
        if data.get("startsOnFirstRequest") and data["mode"] not in ("realtime", "accelerated"):
            raise ValidationError(
                "startsOnFirstRequest gjelder bare klokker i modus realtime og accelerated.",
                "startsOnFirstRequest",
            )


class ClockMoveSchema(WireSchema):
    """POST /sandbox/runs/{id}/clock: move the virtual clock forward."""

    advance = Duration(
        required=True,
        metadata={
            "description": "How far to move the clock; a move past the horizon "
            f"{limits.HORIZON_TEXT} is refused (409)."
        },
    )


class RunCreateSchema(WireSchema):
    """POST /sandbox/runs: a new run, optionally with an innsending already submitted."""

    label = fields.String(load_default=None, validate=text(limits.NAME))
    scenario = fields.String(
        load_default=None,
        validate=text(100, least=1),
        metadata={"description": "Play this scenario from the library."},
    )
    seed = fields.Integer(
        load_default=None,
        strict=True,
        validate=validate.Range(
            min=0, max=limits.SEED_MAX, error="seed må være et heltall fra {min} til {max}."
        ),
    )
    profile = fields.String(
        load_default="utkast-2022", validate=one_of(("utkast-2022",), "profile")
    )
    kommunenummer = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}$", error="Kommunenummer skal være fire siffer."),
    )
    fraEbyggesaksystem = fields.String(load_default=None, validate=text(100))
    clock = fields.Nested(ClockSchema, load_default=None)
    pollInterval = fields.Float(
        load_default=1.0,
        validate=validate.Range(min=0.01, max=86_400),
        metadata={
            "description": "Seconds the client is told to wait between polls; polling "
            "the same API and reference sooner than half of it fails polls_sanely."
        },
    )
    innsending = fields.Nested(InnsendingSchema, load_default=None)
    tenant = fields.String(
        load_default=None,
        validate=text(80, least=1),
        metadata={
            "description": "The tenant the run belongs to (a vendor's CI sharing its staging "
            "sandbox): it keeps its own credentials, its references are also found with the "
            "tenant's, it is listed among the tenant's runs and kept for its retention."
        },
    )
