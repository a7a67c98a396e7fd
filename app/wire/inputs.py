"""Marshmallow schemas for everything the sandbox accepts: innsending, supplering, runs, events.

Input keys may be camelCase (DiBK's JSON) or PascalCase (DiBK's documentation tables);
both load the same. Unknown keys are refused, so a vendor's typo is reported, not ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from app.domain import codes
from app.domain.case import Kontaktpunkt, MottattDokument, Saksnummer
from app.domain.events import (
    EVENT_TYPES,
    Event,
    MangelInput,
    MottaSupplering,
    VedtakspunktInput,
)
from app.errors import Problem
from app.wire.dates import iso, parse_iso

DIGITS = re.compile(r"^\d+$")


def _one_of(choices: dict[str, str] | tuple[str, ...], field_name: str) -> validate.OneOf:
    allowed = list(choices)
    return validate.OneOf(
        allowed,
        error=f"'{{input}}' er en ugyldig kodeverdi for '{field_name}'. "
        f"Gyldige kodeverdier er: {', '.join(allowed)}.",
    )


class UtcDateTime(fields.Field[datetime]):
    """An ISO-8601 date-time with an explicit offset, normalised to UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ValidationError("Må være en dato-tid som tekst (ISO-8601).")
        try:
            return parse_iso(value)
        except ValueError as exc:
            raise ValidationError(
                f"'{value}' er ikke en gyldig ISO-8601 dato-tid med tidssone ({exc})."
            ) from exc

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return iso(value) if value is not None else None


class DigitString(fields.String):
    """A number carried as a string on the wire, as DiBK does (saksaar, dokumentStorrelse)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError('Må være en tekst med bare siffer, f.eks. "2024".')
        if not DIGITS.match(value):
            raise ValidationError(f"'{value}' skal bare inneholde siffer.")
        return value


class WireSchema(Schema):
    """Base: refuse unknown keys and accept DiBK's PascalCase spelling of every key."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _camel_case_keys(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            (key[0].lower() + key[1:] if isinstance(key, str) and key else key): value
            for key, value in data.items()
        }


class SaksnummerSchema(WireSchema):
    """saksnummer: saksaar, sakssekvensnummer (and journalpostnummer), all strings."""

    saksaar = DigitString(required=True, validate=validate.Length(equal=4))
    sakssekvensnummer = DigitString(required=True, validate=validate.Length(min=1, max=10))
    journalpostnummer = DigitString(load_default=None)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Saksnummer:
        return Saksnummer(**data)


class KontaktpunktSchema(WireSchema):
    """avsenderKontaktpunkt: the caseworker or department."""

    navn = fields.String(required=True, validate=validate.Length(min=1, max=200))
    epost = fields.Email(load_default=None)
    telefon = fields.String(load_default=None, validate=validate.Length(max=30))
    mobil = fields.String(load_default=None, validate=validate.Length(max=30))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Kontaktpunkt:
        return Kontaktpunkt(**data)


class EkstraMetadataSchema(WireSchema):
    """A key/value pair from DiBK's 'Metadata om vedlegg'."""

    key = fields.String(required=True, validate=validate.Length(min=1))
    value = fields.String(required=True)


class MottattDokumentSchema(WireSchema):
    """A file submitted with an innsending or a supplering."""

    dokumentNavn = fields.String(required=True, validate=validate.Length(min=1, max=255))
    mimeType = fields.String(required=True, validate=validate.Length(min=1, max=100))
    dokumentStorrelse = DigitString(required=True)
    ekstraMetadata = fields.List(fields.Nested(EkstraMetadataSchema), load_default=list)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> MottattDokument:
        return MottattDokument(**data)


class InnsendingSchema(WireSchema):
    """POST /api/v1/innsending: the søknad the client submits (sandbox stand-in for Altinn/FtB)."""

    soknadstype = fields.String(required=True, validate=_one_of(codes.SOKNADSTYPE, "soknadstype"))
    tiltakstype = fields.List(
        fields.String(validate=_one_of(codes.TILTAKSTYPE, "tiltakstype")),
        required=True,
        validate=validate.Length(min=1, error="Du må oppgi minst én tiltakstype."),
    )
    kommunenummer = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}$", error="Kommunenummer skal være fire siffer."),
    )
    ftBID = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^BYGG-\d{1,12}$", error="ftBID skal ha formen BYGG-1234."),
    )
    tittel = fields.String(load_default=None, validate=validate.Length(max=200))
    dokumenter = fields.List(
        fields.Nested(MottattDokumentSchema),
        required=True,
        validate=validate.Length(min=1, error="Du må sende med minst ett dokument."),
    )


class MangelbesvarelseSchema(WireSchema):
    """A structured answer to one mangel, echoing the kommune's mangelID."""

    mangelID = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kommentar = fields.String(load_default=None)
    vedlegg = fields.List(fields.Nested(MottattDokumentSchema), load_default=list)

    @pre_load
    def _mangel_id_spellings(self, data: Any, **kwargs: Any) -> Any:
        # DiBK spells it mangelID; the split APIs' examples use mangelId. Accept both.
        if isinstance(data, dict) and "mangelId" in data and "mangelID" not in data:
            data = dict(data)
            data["mangelID"] = data.pop("mangelId")
        return data


class EttersendingSchema(WireSchema):
    """New information not triggered by a mangel."""

    tema = fields.String(required=True, validate=_one_of(codes.ETTERSENDING_TEMA, "tema"))
    tittel = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kommentar = fields.String(load_default=None)
    vedleggsliste = fields.List(fields.Nested(MottattDokumentSchema), load_default=list)


class SuppleringSchema(WireSchema):
    """POST /api/v1/supplering: mangelbesvarelse and/or ettersending (Supplering av søknad)."""

    innsendingReferanse = fields.String(required=True, validate=validate.Length(min=1))
    kommunensSaksnummer = fields.Nested(SaksnummerSchema, load_default=None)
    mangelbesvarelse = fields.List(fields.Nested(MangelbesvarelseSchema), load_default=list)
    ettersending = fields.List(fields.Nested(EttersendingSchema), load_default=list)

    @validates_schema
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data["mangelbesvarelse"] and not data["ettersending"]:
            raise ValidationError(
                "Suppleringen må ha mangelbesvarelse eller ettersending.", "mangelbesvarelse"
            )
        if data["mangelbesvarelse"] and data["kommunensSaksnummer"] is None:
            raise ValidationError(
                "Du må fylle ut kommunensSaksnummer når du besvarer mangler.",
                "kommunensSaksnummer",
            )


def supplering_event(data: dict[str, Any], referanse: str) -> MottaSupplering:
    """Turn a loaded supplering body into the kommune event that receives it."""
    return MottaSupplering(
        innsendingReferanse=data["innsendingReferanse"],
        referanse=referanse,
        kommunensSaksnummer=data["kommunensSaksnummer"],
        mangelIDer=[m["mangelID"] for m in data["mangelbesvarelse"]],
        ettersending=[
            {"tema": e["tema"], "tittel": e["tittel"], "kommentar": e["kommentar"] or ""}
            for e in data["ettersending"]
        ],
    )


class ClockSchema(WireSchema):
    """The run's virtual clock: mode and an optional start time."""

    mode = fields.String(
        load_default="realtime",
        validate=_one_of(("realtime", "manual", "accelerated", "on_poll"), "mode"),
    )
    start = UtcDateTime(load_default=None)
    factor = fields.Float(
        load_default=None,
        validate=validate.Range(min=0, min_inclusive=False, max=10_000_000),
        metadata={"description": "accelerated: virtual seconds per real second (86400 = a day)."},
    )
    step = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^P(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$",
            error="step er en ISO-8601-varighet, f.eks. PT6H.",
        ),
        metadata={"description": "on_poll: how far each client request moves the clock."},
    )

    @validates_schema
    def _mode_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["mode"] == "on_poll" and not data["step"]:
            raise ValidationError("Klokke i modus on_poll trenger 'step', f.eks. PT6H.", "step")


class ClockMoveSchema(WireSchema):
    """POST /sandbox/runs/{id}/clock: move the virtual clock forward."""

    advance = fields.String(required=True, validate=validate.Length(min=2, max=40))


class RunCreateSchema(WireSchema):
    """POST /sandbox/runs: a new run, optionally with an innsending already submitted."""

    label = fields.String(load_default=None, validate=validate.Length(max=200))
    scenario = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Play this scenario from the library."},
    )
    seed = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0))
    profile = fields.String(
        load_default="utkast-2022", validate=_one_of(("utkast-2022",), "profile")
    )
    kommunenummer = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}$", error="Kommunenummer skal være fire siffer."),
    )
    fraEbyggesaksystem = fields.String(load_default=None, validate=validate.Length(max=100))
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


# ---- kommune events -------------------------------------------------------------------


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
        required=True, validate=_one_of(codes.TYPE_ENDRING_SAKSNUMMER, "TypeOppdatering")
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
        load_default=None, validate=_one_of(codes.SOKNADSTYPE, "soknadstype")
    )
    tiltakstyper = fields.List(
        fields.String(validate=_one_of(codes.TILTAKSTYPE, "tiltakstype")),
        load_default=None,
        validate=validate.Length(min=1),
    )


class MangelItemSchema(WireSchema):
    """One deficiency in a mangel event."""

    sjekkpunktId = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d+(\.\d+)*$", error="sjekkpunktId har formen 1.73."),
    )
    utfall = fields.String(required=True, validate=_one_of(codes.MANGEL_UTFALL, "utfall"))
    tittel = fields.String(required=True, validate=validate.Length(min=1, max=200))
    beskrivelse = fields.String(load_default="")
    svarfrist = UtcDateTime(load_default=None)

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

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> VedtakspunktInput:
        return VedtakspunktInput(**data)


class VedtakSchema(EventSchema):
    """vedtak: innvilget (with vilkår/oppfølgingspunkt), avslag or avvisning."""

    resultat = fields.String(required=True, validate=_one_of(codes.VEDTAK_RESULTAT, "resultat"))
    vilkaar = fields.List(fields.Nested(VedtakspunktSchema), load_default=list)
    oppfolgingspunkter = fields.List(fields.Nested(VedtakspunktSchema), load_default=list)


class PubliserDokumentSchema(EventSchema):
    """publiser_dokument: an outgoing letter."""

    tittel = fields.String(required=True, validate=validate.Length(min=1, max=200))
    tekst = fields.List(fields.String(), load_default=list)
    distribusjonsmetode = fields.List(
        fields.String(validate=_one_of(codes.DISTRIBUSJONSMETODE, "distribusjonsmetode")),
        load_default=lambda: ["fellestjenesterBygg"],
        validate=validate.Length(min=1),
    )


class SuppleringEventSchema(EventSchema, SuppleringSchema):
    """supplering: receive a supplering on the client's behalf (control plane only)."""

    innsendingReferanse = fields.String(required=True, validate=validate.Length(min=1))


EVENT_SCHEMAS: dict[str, type[EventSchema]] = {
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
}
assert set(EVENT_SCHEMAS) == set(EVENT_TYPES)


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


_MESSAGES = (
    ("Missing data for required field.", "påkrevd", "Du må fylle ut '{field}'."),
    ("Unknown field.", "ukjent_felt", "'{field}' er et ukjent felt."),
    ("Field may not be null.", "påkrevd", "'{field}' kan ikke være null."),
    ("Not a valid string.", "type", "'{field}' må være en tekst."),
    ("Not a valid integer.", "type", "'{field}' må være et heltall."),
    ("Not a valid boolean.", "type", "'{field}' må være true eller false."),
    ("Not a valid list.", "type", "'{field}' må være en liste."),
    ("Invalid input type.", "type", "'{field}' må være et JSON-objekt."),
    ("Not a valid email address.", "format", "'{field}' er ikke en gyldig e-postadresse."),
)


def problems_from(messages: Any, prefix: str) -> list[Problem]:
    """Flatten marshmallow's nested error dict into DiBK-style problems with JSON paths."""
    out: list[Problem] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "_schema":
                    walk(value, path)
                elif isinstance(key, int):
                    walk(value, f"{path}[{key}]")
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        else:
            out.append(_problem(str(node), path, prefix))

    walk(messages, "")
    return out


def _problem(message: str, path: str, prefix: str) -> Problem:
    field_name = path or "$"
    rule_path = re.sub(r"\[\d+\]", "", path) or "body"
    for english, kind, norwegian in _MESSAGES:
        if message == english:
            return Problem(
                f"{prefix}.{rule_path}.{kind}", field_name, norwegian.format(field=field_name)
            )
    kind = "kodeverdi" if "ugyldig kodeverdi" in message else "ugyldig"
    return Problem(f"{prefix}.{rule_path}.{kind}", field_name, message)
