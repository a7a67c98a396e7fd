"""Søknader on POST /api/v1/innsending: the sandbox's JSON, and DiBK's ET, RS, IG, MB, FA forms.

DiBK's XML form is read by :class:`SoeknadFormSchema` (its element names) and turned into the
JSON innsending (:func:`form_innsending`), which :class:`SoeknadSchema` loads; so the XML and
its JSON twin are one reading, one canonical body and one write. A follow-up (IG, MB, FA)
names its case by ``kommunensSaksnummer`` and may answer the earlier vedtak's vilkår and
oppfølgingspunkter (``utfallBesvarelse``), as Supplering av søknad v2 does.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from app import limits
from app.domain import codes
from app.wire.inputs.base import BoundedList, one_of, text
from app.wire.inputs.forms import (
    FTB_ID,
    FTB_ID_ERROR,
    FormSchema,
    Kode,
    KommunensSaksnummerSchema,
    UtfallBesvarelseSchema,
    as_list,
    located,
    utfall_svar_json,
)
from app.wire.inputs.submissions import InnsendingSchema
from app.wire.inputs.supplering import utfall_svar
from app.wire.xml_forms import FormKind

ETTRINN = FormKind(
    "ET", "ettrinn", "https://skjema.ft.dibk.no/ettrinn/v4", "Søknad om tillatelse i ett trinn v4"
)
RAMME = FormKind("RS", "ramme", "https://skjema.ft.dibk.no/ramme/v4", "Rammesøknad v4")
IGANGSETTING = FormKind(
    "IG",
    "igangsettingstillatelse",
    "https://skjema.ft.dibk.no/igangsettingstillatelse/v5",
    "Igangsettingstillatelse v5",
)
MIDLERTIDIG = FormKind(
    "MB",
    "midlertidigbrukstillatelse",
    "https://skjema.ft.dibk.no/midlertidigbrukstillatelse/v5",
    "Midlertidig brukstillatelse v5",
)
FERDIGATTEST = FormKind(
    "FA", "ferdigattest", "https://skjema.ft.dibk.no/ferdigattest/v5", "Ferdigattest v5"
)
SOEKNADER = (ETTRINN, RAMME, IGANGSETTING, MIDLERTIDIG, FERDIGATTEST)


class SoeknadSchema(InnsendingSchema):
    """POST /api/v1/innsending: the søknad, and for a follow-up its case and its answers."""

    fraSluttbrukersystem = fields.String(load_default=None, validate=text(limits.NAME))
    kommunensSaksnummer = fields.Nested(KommunensSaksnummerSchema, load_default=None)
    # JSON only (sandbox extension): the earlier søknad whose case this one follows up.
    innsendingReferanse = fields.String(
        load_default=None,
        validate=text(limits.IDENTIFIER, least=1),
        metadata={
            "description": "Sandbox assumption (JSON only): the innsendingReferanse of an "
            "earlier søknad whose case this follow-up is placed on, instead of or beside "
            "kommunensSaksnummer."
        },
    )
    utfallBesvarelse = fields.Nested(UtfallBesvarelseSchema, load_default=list)

    @validates_schema
    def _answers_name_a_case(self, data: dict[str, Any], **kwargs: Any) -> None:
        named = data["kommunensSaksnummer"] is not None or data["innsendingReferanse"]
        if data["utfallBesvarelse"] and not named:
            raise ValidationError(
                "Du må fylle ut kommunensSaksnummer (eller innsendingReferanse) når du "
                "besvarer utfall.",
                "kommunensSaksnummer",
            )

    @post_load
    def _answers(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        svar = located(data.pop("utfallBesvarelse"))
        return {**data, "utfallSvar": svar, "svar": [utfall_svar(s) for s in svar]}

    def canonical(self, data: dict[str, Any]) -> dict[str, Any]:
        """The loaded søknad keyed as the JSON innsending; the follow-up keys only when sent."""
        plain = {k: v for k, v in data.items() if k not in ("utfallSvar", "svar")}
        plain.pop("kommunensSaksnummer", None)
        plain.pop("fraSluttbrukersystem", None)
        plain.pop("innsendingReferanse", None)
        out: dict[str, Any] = InnsendingSchema().dump(plain)
        if data["innsendingReferanse"] is not None:
            out["innsendingReferanse"] = data["innsendingReferanse"]
        if data["fraSluttbrukersystem"] is not None:
            out["fraSluttbrukersystem"] = data["fraSluttbrukersystem"]
        saksnummer = data["kommunensSaksnummer"]
        if saksnummer is not None:
            out["kommunensSaksnummer"] = {
                "saksaar": saksnummer.saksaar,
                "sakssekvensnummer": saksnummer.sakssekvensnummer,
            }
        if data["utfallSvar"]:
            out["utfallBesvarelse"] = {
                "utfallSvar": [utfall_svar_json(s) for s in data["utfallSvar"]]
            }
        return out


class SoeknadMetadataSchema(FormSchema):
    """metadata of a søknad: the søknadssystem, ftbId and the project's name."""

    fraSluttbrukersystem = fields.String(load_default=None, validate=text(limits.NAME))
    ftbId = fields.String(load_default=None, validate=validate.Regexp(FTB_ID, error=FTB_ID_ERROR))
    prosjektnavn = fields.String(load_default=None, validate=text(limits.NAME))


class EiendomsidentifikasjonSchema(FormSchema):
    """eiendomsidentifikasjon: the kommunenummer and the matrikkel numbers."""

    kommunenummer = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}$", error="Kommunenummer skal være fire siffer."),
    )


class EiendomSchema(FormSchema):
    """eiendom: one property of the byggested (only its kommunenummer is read)."""

    eiendomsidentifikasjon = fields.Nested(EiendomsidentifikasjonSchema, load_default=None)


class EiendomByggestedSchema(FormSchema):
    """eiendomByggested: one or more eiendom."""

    eiendom = BoundedList(fields.Nested(EiendomSchema), most=limits.ITEMS, load_default=list)

    @pre_load
    def _repeated(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "eiendom" in data:
            return {**data, "eiendom": as_list(data["eiendom"])}
        return data


class TiltakstypeListeSchema(FormSchema):
    """soeknadGjelder/type: one or more kode, each a tiltakstype."""

    kode = BoundedList(
        Kode(validate=one_of(codes.TILTAKSTYPE, "tiltakstype")),
        most=limits.CODES,
        load_default=list,
    )

    @pre_load
    def _repeated(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "kode" in data:
            return {**data, "kode": as_list(data["kode"])}
        return data


class SoeknadGjelderSchema(FormSchema):
    """soeknadGjelder: the tiltakstyper (and, in IG and MB, which part of the tiltak)."""

    type = fields.Nested(TiltakstypeListeSchema, load_default=None)


class SoeknadFormSchema(FormSchema):
    """DiBK's ET v4, RS v4, IG v5, MB v5 or FA v5 form: the blocks the sandbox reads.

    The blocks DiBK's forms carry that the sandbox does not read (ansvarligSoeker,
    tiltakshaver, planer …) are listed per form in :mod:`app.wire.inputs.form_blocks` and
    accepted as sent; any other element is left out with an advarsel (DiBK's XSDs are not
    published with the data).
    """

    metadata = fields.Nested(SoeknadMetadataSchema, load_default=None)
    eiendomByggested = fields.Nested(EiendomByggestedSchema, load_default=None)
    soeknadGjelder = fields.Nested(SoeknadGjelderSchema, load_default=None)
    kommunensSaksnummer = fields.Raw(load_default=None)
    utfallBesvarelse = fields.Raw(load_default=None)
    vedlegg = fields.Raw(load_default=None)

    @validates_schema
    def _tiltakstype(self, data: dict[str, Any], **kwargs: Any) -> None:
        gjelder = data["soeknadGjelder"] or {}
        if not (gjelder.get("type") or {}).get("kode"):
            raise ValidationError("Du må oppgi minst én tiltakstype.", "soeknadGjelder")


def form_innsending(kind: FormKind, form: dict[str, Any], size: int) -> dict[str, Any]:
    """The JSON innsending a loaded DiBK form stands for (what :class:`SoeknadSchema` loads).

    Sandbox assumptions: ``prosjektnavn`` is the tittel; the first eiendom's kommunenummer is
    the kommune's; the mottattDokument list is the form itself (``<root>.xml``, its size in
    bytes) and then every file an ``utfallSvar`` or the form's ``vedlegg`` names (size 0:
    the form does not carry it).
    """
    metadata = form["metadata"] or {}
    eiendommer = (form["eiendomByggested"] or {}).get("eiendom") or []
    ident = (eiendommer[0].get("eiendomsidentifikasjon") if eiendommer else None) or {}
    gjelder = form["soeknadGjelder"] or {}
    svar = (form["utfallBesvarelse"] or {}) if isinstance(form["utfallBesvarelse"], dict) else {}
    dokumenter = [
        {
            "dokumentNavn": f"{kind.root}.xml",
            "mimeType": "application/xml",
            "dokumentStorrelse": str(size),
            "ekstraMetadata": [{"key": "dataFormatNamespace", "value": kind.namespace}],
        }
    ]
    for filnavn in _filenames([svar, form["vedlegg"]]):
        mime = mimetypes.guess_type(filnavn)[0] or "application/octet-stream"
        dokumenter.append({"dokumentNavn": filnavn, "mimeType": mime, "dokumentStorrelse": "0"})
    out: dict[str, Any] = {
        "soknadstype": kind.code,
        "tiltakstype": list((gjelder.get("type") or {}).get("kode") or []),
        "dokumenter": dokumenter[: limits.DOCUMENTS],
    }
    optional = {
        "kommunenummer": ident.get("kommunenummer"),
        "ftBID": metadata.get("ftbId"),
        "tittel": metadata.get("prosjektnavn"),
        "fraSluttbrukersystem": metadata.get("fraSluttbrukersystem"),
        "kommunensSaksnummer": form["kommunensSaksnummer"],
        "utfallBesvarelse": form["utfallBesvarelse"],
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def _filenames(blocks: list[Any]) -> list[str]:
    """Every ``filnavn`` under the blocks, in document order, each once."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "filnavn" and isinstance(inner, str) and inner not in found:
                    found.append(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(blocks)
    return found
