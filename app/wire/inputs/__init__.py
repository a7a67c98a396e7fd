"""Marshmallow schemas for everything the sandbox accepts: innsending, supplering, runs, events.

Input keys may be camelCase (DiBK's JSON) or PascalCase (DiBK's documentation tables);
both load the same. Unknown keys are refused, so a vendor's typo is reported, not ignored.
The schemas live in ``base`` (field types, the wire base schema), ``submissions`` (what a
søknadssystem sends), ``runs`` (the control plane's run and clock bodies), ``events``
(kommune events) and ``problems`` (errors as DiBK-style problems); import them from here.
"""

from __future__ import annotations

from app.wire.inputs.base import DIGITS, DigitString, UtcDateTime, WireSchema, one_of
from app.wire.inputs.events import (
    EVENT_SCHEMAS,
    EndreSaksnummerSchema,
    EndreSoknadstypeSchema,
    EventSchema,
    JournalforSchema,
    KomplettSchema,
    MangelItemSchema,
    MangelSchema,
    PubliserDokumentSchema,
    SettFristSchema,
    SuppleringEventSchema,
    TildelSaksbehandlerSchema,
    VedtakSchema,
    VedtakspunktSchema,
    load_event,
)
from app.wire.inputs.problems import problems_from
from app.wire.inputs.runs import ClockMoveSchema, ClockSchema, RunCreateSchema
from app.wire.inputs.submissions import (
    EkstraMetadataSchema,
    EttersendingSchema,
    InnsendingSchema,
    KontaktpunktSchema,
    MangelbesvarelseSchema,
    MottattDokumentSchema,
    SaksnummerSchema,
)
from app.wire.inputs.supplering import SuppleringSchema, canonical_supplering, supplering_event
from app.wire.inputs.tenants import NextScenarioSchema, PasswordRotateSchema, TenantCreateSchema

__all__ = [
    "DIGITS",
    "EVENT_SCHEMAS",
    "ClockMoveSchema",
    "ClockSchema",
    "DigitString",
    "EkstraMetadataSchema",
    "EndreSaksnummerSchema",
    "EndreSoknadstypeSchema",
    "EttersendingSchema",
    "EventSchema",
    "InnsendingSchema",
    "NextScenarioSchema",
    "PasswordRotateSchema",
    "TenantCreateSchema",
    "JournalforSchema",
    "KomplettSchema",
    "KontaktpunktSchema",
    "MangelItemSchema",
    "MangelSchema",
    "MangelbesvarelseSchema",
    "MottattDokumentSchema",
    "PubliserDokumentSchema",
    "RunCreateSchema",
    "SaksnummerSchema",
    "SettFristSchema",
    "SuppleringEventSchema",
    "SuppleringSchema",
    "TildelSaksbehandlerSchema",
    "UtcDateTime",
    "VedtakSchema",
    "VedtakspunktSchema",
    "WireSchema",
    "canonical_supplering",
    "load_event",
    "one_of",
    "problems_from",
    "supplering_event",
]
