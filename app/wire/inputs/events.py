"""Kommune events as the control plane and scenarios write them: one schema per event kind.

``EVENT_SCHEMAS`` maps each kind of :data:`app.vocabulary.EVENT_KINDS` to its schema, and
:func:`load_event` turns a body into the domain event of :mod:`app.domain.events`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from app.domain import codes
from app.domain.events import EVENT_TYPES, Event, MangelInput, VedtakspunktInput
from app.vocabulary import EVENT_KINDS
from app.wire.inputs.base import UtcDateTime, WireSchema, one_of
from app.wire.inputs.submissions import KontaktpunktSchema, SaksnummerSchema
from app.wire.inputs.supplering import SuppleringSchema, supplering_event


class EventSchema(WireSchema):
    """Fields every event accepts."""

    type = fields.String(required=True)
    innsendingReferanse = fields.String(load_default=None)
    melding = fields.List(fields.String(), load_default=list)


class JournalforSchema(EventSchema):
    """journalfor: register the innsending and issue the kvittering."""

    saksnummer = fields.Nested(SaksnummerSchema, load_default=None)
    fordelingssak = fields.Boolean(load_default=False)
    saksbehandler = fields.Nested(KontaktpunktSchema, load_default=None)
    komplett = fields.Boolean(load_default=True)
    sammeSakSom = fields.String(
        load_default=None,
        metadata={"description": "Journalfør on the same saksnummer as this innsending."},
    )


class EndreSaksnummerSchema(EventSchema):
    """endre_saksnummer: endring, samling or splitting."""

    typeOppdatering = fields.String(
        required=True, validate=one_of(codes.TYPE_ENDRING_SAKSNUMMER, "TypeOppdatering")
    )
    innsendingReferanser = fields.List(fields.String(), load_default=list)
    tilSaksnummer = fields.List(fields.Nested(SaksnummerSchema), load_default=list)


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
    tiltakstyper = fields.List(
        fields.String(validate=one_of(codes.TILTAKSTYPE, "tiltakstype")),
        load_default=None,
        validate=validate.Length(min=1),
    )


class MangelItemSchema(WireSchema):
    """One deficiency in a mangel event."""

    sjekkpunktId = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d+(\.\d+)*$", error="sjekkpunktId har formen 1.73."),
    )
    utfall = fields.String(required=True, validate=one_of(codes.MANGEL_UTFALL, "utfall"))
    tittel = fields.String(required=True, validate=validate.Length(min=1, max=200))
    beskrivelse = fields.String(load_default="")
    svarfrist = UtcDateTime(load_default=None)
    tema = fields.String(
        load_default=codes.DEFAULT_TEMA, validate=one_of(codes.ETTERSENDING_TEMA, "tema")
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> MangelInput:
        return MangelInput(**data)


class MangelSchema(EventSchema):
    """mangel: a mangelbrev with one or more deficiencies."""

    mangler = fields.List(
        fields.Nested(MangelItemSchema), required=True, validate=validate.Length(min=1)
    )
    svarfrist = UtcDateTime(load_default=None)


class KomplettSchema(EventSchema):
    """komplett: the søknad is complete (KS)."""


class VedtakspunktSchema(WireSchema):
    """A vilkår or oppfølgingspunkt."""

    sjekkpunktId = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d+(\.\d+)*$", error="sjekkpunktId har formen 3.7."),
    )
    tittel = fields.String(required=True, validate=validate.Length(min=1, max=200))
    beskrivelse = fields.String(load_default="")
    tema = fields.String(
        load_default=codes.DEFAULT_TEMA, validate=one_of(codes.ETTERSENDING_TEMA, "tema")
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> VedtakspunktInput:
        return VedtakspunktInput(**data)


class VedtakSchema(EventSchema):
    """vedtak: innvilget (with vilkår/oppfølgingspunkt), avslag or avvisning."""

    resultat = fields.String(required=True, validate=one_of(codes.VEDTAK_RESULTAT, "resultat"))
    vilkaar = fields.List(fields.Nested(VedtakspunktSchema), load_default=list)
    oppfolgingspunkter = fields.List(fields.Nested(VedtakspunktSchema), load_default=list)


class PubliserDokumentSchema(EventSchema):
    """publiser_dokument: an outgoing letter."""

    tittel = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tekst = fields.List(fields.String(), load_default=list)
    distribusjonsmetode = fields.List(
        fields.String(validate=one_of(codes.DISTRIBUSJONSMETODE, "distribusjonsmetode")),
        load_default=lambda: ["fellestjenesterBygg"],
        validate=validate.Length(min=1),
    )


class SuppleringEventSchema(EventSchema, SuppleringSchema):
    """supplering: receive a supplering on the client's behalf (control plane only)."""

    innsendingReferanse = fields.String(required=True, validate=validate.Length(min=1))


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
    if kind not in EVENT_SCHEMAS:
        raise ValidationError(
            {
                "type": [
                    f"'{kind}' er en ukjent hendelsestype. Gyldige typer er: "
                    + ", ".join(EVENT_SCHEMAS)
                    + "."
                ]
            }
        )
    loaded: dict[str, Any] = EVENT_SCHEMAS[kind]().load(data)
    loaded.pop("type")
    if kind == "supplering":
        event = supplering_event(loaded, supplering_ref)
        event.melding = loaded["melding"]
        return event
    return EVENT_TYPES[kind](**loaded)
