"""Kommune events as the control plane and scenarios write them: one schema per event kind.

``EVENT_SCHEMAS`` maps each kind of :data:`app.vocabulary.EVENT_KINDS` to its schema, and
:func:`load_event` turns a body into the domain event of :mod:`app.domain.events`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from app import limits
from app.domain import codes
from app.domain.events import EVENT_TYPES, Event, MangelInput, VedtakspunktInput
from app.vocabulary import EVENT_KINDS
from app.wire.inputs.base import BoundedList, UtcDateTime, WireSchema, one_of, text
from app.wire.inputs.submissions import KontaktpunktSchema, SaksnummerSchema
from app.wire.inputs.supplering import SuppleringSchema, supplering_event


class EventSchema(WireSchema):
    """Fields every event accepts."""

    type = fields.String(required=True, validate=one_of(EVENT_KINDS, "type"))
    innsendingReferanse = fields.String(load_default=None, validate=text(limits.IDENTIFIER))
    melding = BoundedList(fields.String(validate=text()), most=limits.LINES, load_default=list)


class JournalforSchema(EventSchema):
    """journalfor: register the innsending and issue the kvittering."""

    saksnummer = fields.Nested(SaksnummerSchema, load_default=None)
    fordelingssak = fields.Boolean(load_default=False)
    saksbehandler = fields.Nested(KontaktpunktSchema, load_default=None)
    komplett = fields.Boolean(load_default=True)
    sammeSakSom = fields.String(
        load_default=None,
        validate=text(limits.IDENTIFIER),
        metadata={"description": "Journalfør on the same saksnummer as this innsending."},
    )


class EndreSaksnummerSchema(EventSchema):
    """endre_saksnummer: endring, samling or splitting."""

    typeOppdatering = fields.String(
        required=True, validate=one_of(codes.TYPE_ENDRING_SAKSNUMMER, "TypeOppdatering")
    )
    innsendingReferanser = BoundedList(
        fields.String(validate=text(limits.IDENTIFIER)), most=limits.ITEMS, load_default=list
    )
    tilSaksnummer = BoundedList(
        fields.Nested(SaksnummerSchema), most=limits.ITEMS, load_default=list
    )


class TildelSaksbehandlerSchema(EventSchema):
    """tildel_saksbehandler: a named caseworker, or a generated one."""

    saksbehandler = fields.Nested(KontaktpunktSchema, load_default=None)


class SettFristSchema(EventSchema):
    """sett_frist: a date, or a number of weeks from now."""

    dato = UtcDateTime(load_default=None)
    uker = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=104))

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data["dato"] is None) == (data["uker"] is None):
            raise ValidationError("Oppgi enten 'dato' eller 'uker'.", "dato")


class EndreSoknadstypeSchema(EventSchema):
    """endre_soknadstype: new søknadstype and/or tiltakstyper."""

    soknadstype = fields.String(
        load_default=None, validate=one_of(codes.SOKNADSTYPE, "soknadstype")
    )
    tiltakstyper = BoundedList(
        fields.String(validate=one_of(codes.TILTAKSTYPE, "tiltakstype")),
        most=limits.CODES,
        load_default=None,
        validate=validate.Length(min=1),
    )


class MangelItemSchema(WireSchema):
    """One deficiency in a mangel event."""

    sjekkpunktId = fields.String(
        required=True,
        validate=[
            text(20),
            validate.Regexp(r"^\d+(\.\d+)*$", error="sjekkpunktId har formen 1.73."),
        ],
    )
    utfall = fields.String(required=True, validate=one_of(codes.MANGEL_UTFALL, "utfall"))
    tittel = fields.String(required=True, validate=text(limits.NAME, least=1))
    beskrivelse = fields.String(load_default="", validate=text())
    svarfrist = UtcDateTime(load_default=None)
    tema = fields.String(
        load_default=codes.DEFAULT_TEMA, validate=one_of(codes.ETTERSENDING_TEMA, "tema")
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> MangelInput:
        return MangelInput(**data)


class MangelSchema(EventSchema):
    """mangel: a mangelbrev with one or more deficiencies."""

    mangler = BoundedList(
        fields.Nested(MangelItemSchema),
        most=limits.ITEMS,
        required=True,
        validate=validate.Length(min=1),
    )
    svarfrist = UtcDateTime(load_default=None)


class KomplettSchema(EventSchema):
    """komplett: the søknad is complete (KS)."""


class VedtakspunktSchema(WireSchema):
    """A vilkår or oppfølgingspunkt."""

    sjekkpunktId = fields.String(
        required=True,
        validate=[
            text(20),
            validate.Regexp(r"^\d+(\.\d+)*$", error="sjekkpunktId har formen 3.7."),
        ],
    )
    tittel = fields.String(required=True, validate=text(limits.NAME, least=1))
    beskrivelse = fields.String(load_default="", validate=text())
    tema = fields.String(
        load_default=codes.DEFAULT_TEMA, validate=one_of(codes.ETTERSENDING_TEMA, "tema")
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> VedtakspunktInput:
        return VedtakspunktInput(**data)


class VedtakSchema(EventSchema):
    """vedtak: innvilget (with vilkår/oppfølgingspunkt), avslag or avvisning."""

    resultat = fields.String(required=True, validate=one_of(codes.VEDTAK_RESULTAT, "resultat"))
    vilkaar = BoundedList(fields.Nested(VedtakspunktSchema), most=limits.ITEMS, load_default=list)
    oppfolgingspunkter = BoundedList(
        fields.Nested(VedtakspunktSchema), most=limits.ITEMS, load_default=list
    )


class PubliserDokumentSchema(EventSchema):
    """publiser_dokument: an outgoing letter."""

    tittel = fields.String(required=True, validate=text(limits.NAME, least=1))
    tekst = BoundedList(fields.String(validate=text()), most=limits.LINES, load_default=list)
    distribusjonsmetode = BoundedList(
        fields.String(validate=one_of(codes.DISTRIBUSJONSMETODE, "distribusjonsmetode")),
        most=limits.CODES,
        load_default=lambda: ["fellestjenesterBygg"],
        validate=validate.Length(min=1),
    )


class SuppleringEventSchema(EventSchema, SuppleringSchema):
    """supplering: receive a supplering on the client's behalf (control plane only)."""

    innsendingReferanse = fields.String(required=True, validate=text(limits.IDENTIFIER, least=1))


T = TypeVar("T")


def _in_order(registered: dict[str, T], registry: Iterable[str]) -> dict[str, T]:
    """``registered`` in the vocabulary's order; names the vocabulary lacks come last."""
    order = {name: index for index, name in enumerate(registry)}
    return dict(sorted(registered.items(), key=lambda item: order.get(item[0], len(order))))


EVENT_SCHEMAS: dict[str, type[EventSchema]] = _in_order(
    {
        "journalfor": JournalforSchema,
        "endre_saksnummer": EndreSaksnummerSchema,
        "tildel_saksbehandler": TildelSaksbehandlerSchema,
        "sett_frist": SettFristSchema,
        "endre_soknadstype": EndreSoknadstypeSchema,
        "mangel": MangelSchema,
        "supplering": SuppleringEventSchema,
        "komplett": KomplettSchema,
        "vedtak": VedtakSchema,
        "publiser_dokument": PubliserDokumentSchema,
    },
    EVENT_KINDS,
)


def load_event(data: Any, supplering_ref: str) -> Event:
    """Load an event body into a domain event; raise ValidationError with field paths."""
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["Hendelsen må være et JSON-objekt."]})
    kind = data.get("type", data.get("Type"))
    if not isinstance(kind, str) or kind not in EVENT_SCHEMAS:
        if kind is None:
            told = "Du må oppgi hendelsens type."
        elif isinstance(kind, str):
            told = f"'{kind[: limits.IDENTIFIER]}' er en ukjent hendelsestype."
        else:
            told = "Hendelsens type må være en tekst."
        raise ValidationError({"type": [f"{told} Gyldige typer er: {', '.join(EVENT_SCHEMAS)}."]})
    loaded: dict[str, Any] = EVENT_SCHEMAS[kind]().load(data)
    loaded.pop("type")
    if kind == "supplering":
        event = supplering_event(loaded)
        event.referanse = supplering_ref
        event.melding = loaded["melding"]
        return event
    return EVENT_TYPES[kind](**loaded)
