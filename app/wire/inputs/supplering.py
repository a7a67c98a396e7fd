"""POST /api/v1/supplering: Supplering av søknad v2, and the sandbox's older mangelbesvarelse.

Both bodies load to one reading: the answers to outcomes (``utfallBesvarelse.utfallSvar[]``,
or the old ``mangelbesvarelse[]``) and the ettersendinger (``ettersendinger.ettersending[]``,
or the old ``ettersending[]``). Its canonical form (:func:`canonical_supplering`) is the v2
shape, so scoring reads one form whichever was sent. DiBK's form blocks the sandbox does not
interpret (eiendomByggested, ansvarligSoeker …) are accepted as they are.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load, validates_schema

from app import limits
from app.domain import codelists, codes
from app.domain.answers import UtfallSvar
from app.domain.events import MottaSupplering
from app.wire.inputs import form_blocks
from app.wire.inputs.base import BoundedList, one_of, text
from app.wire.inputs.forms import (
    FormSchema,
    Kode,
    KommunensSaksnummerSchema,
    UtfallBesvarelseSchema,
    VedleggslisteSchema,
    as_list,
    kode_json,
    located,
    utfall_svar_json,
    vedlegg_json,
)
from app.wire.inputs.submissions import EttersendingSchema, MangelbesvarelseSchema

# DiBK's form blocks the sandbox accepts without reading them (one list, in form_blocks):
# fields of the schema, so the JSON body and /openapi.json take them, dropped once loaded.
UNREAD = form_blocks.top_level("SU")
_UnreadBlocks = FormSchema.from_dict(
    {
        name: fields.Raw(
            load_default=None,
            metadata={
                "description": "DiBK's block, accepted as sent; the sandbox does not read it."
            },
        )
        for name in sorted(UNREAD)
    },
    name="SuppleringUnreadBlocks",
)


class EttersendingV2Schema(FormSchema):
    """ettersending: material sent without answering a specific outcome."""

    tema = Kode(
        required=True,
        koder=codes.ETTERSENDING_TEMA,
        validate=one_of(codes.ETTERSENDING_TEMA, "tema"),
    )
    tittel = fields.String(required=True, validate=text(limits.NAME, least=1))
    kommentar = fields.String(load_default=None, validate=text())
    vedleggsliste = fields.Nested(VedleggslisteSchema, load_default=list)


class EttersendingerSchema(FormSchema):
    """ettersendinger: one or more ettersending."""

    ettersending = BoundedList(
        fields.Nested(EttersendingV2Schema), most=limits.ITEMS, load_default=list
    )

    @pre_load
    def _repeated(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "ettersending" in data:
            return {**data, "ettersending": as_list(data["ettersending"])}
        return data

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        return list(data["ettersending"])


class MetadataSchema(FormSchema):
    """metadata of a supplering: the søknadssystem's name and the preferred language."""

    fraSluttbrukersystem = fields.String(load_default=None, validate=text())
    foretrukketSpraak = Kode(load_default=None)


class SuppleringSchema(_UnreadBlocks):  # type: ignore[misc,valid-type]
    """POST /api/v1/supplering: Supplering av søknad v2 (or the older mangelbesvarelse body).

    The case is named by ``innsendingReferanse`` or by ``kommunensSaksnummer`` (any number
    the case has had); answering an outcome needs the saksnummer.
    """

    innsendingReferanse = fields.String(
        load_default=None, validate=text(limits.IDENTIFIER, least=1)
    )
    kommunensSaksnummer = fields.Nested(KommunensSaksnummerSchema, load_default=None)
    metadata = fields.Nested(MetadataSchema, load_default=None)
    utfallBesvarelse = fields.Nested(UtfallBesvarelseSchema, load_default=list)
    ettersendinger = fields.Nested(EttersendingerSchema, load_default=list)
    mangelbesvarelse = BoundedList(
        fields.Nested(MangelbesvarelseSchema), most=limits.ITEMS, load_default=list
    )
    ettersending = BoundedList(
        fields.Nested(EttersendingSchema), most=limits.ITEMS, load_default=list
    )

    @validates_schema
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        answers = data["utfallBesvarelse"] or data["mangelbesvarelse"]
        if not answers and not data["ettersendinger"] and not data["ettersending"]:
            raise ValidationError(
                "Suppleringen må ha utfallBesvarelse eller ettersendinger.", "utfallBesvarelse"
            )
        if data["kommunensSaksnummer"] is None and (answers or not data["innsendingReferanse"]):
            raise ValidationError(
                "Du må fylle ut kommunensSaksnummer når du besvarer utfall"
                + (
                    "."
                    if data["innsendingReferanse"]
                    else " eller ikke oppgir innsendingReferanse."
                ),
                "kommunensSaksnummer",
            )

    @post_load
    def _one_reading(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        svar = located(data.pop("utfallBesvarelse"))
        svar += [_legacy_answer(m, i) for i, m in enumerate(data.pop("mangelbesvarelse"))]
        ettersending = list(data.pop("ettersendinger"))
        ettersending += [_legacy_ettersending(e) for e in data.pop("ettersending")]
        kept = {k: v for k, v in data.items() if k not in UNREAD}
        return {**kept, "utfallSvar": svar, "ettersending": ettersending}

    def canonical(self, data: dict[str, Any]) -> dict[str, Any]:
        """The loaded body in the one form scoring reads (Supplering v2's names)."""
        return canonical_supplering(data)


def _legacy_answer(item: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "utfallId": item["mangelID"],
        "felt": f"mangelbesvarelse[{index}].mangelID",
        "utfallType": None,
        "tema": None,
        "tittel": None,
        "beskrivelse": None,
        "utloestFraSjekkpunkt": None,
        "erUtfallBesvart": None,
        "erUtfallBesvaresSenere": item["erUtfallBesvaresSenere"],
        "kommentar": item["kommentar"],
        "vedleggsliste": [
            {"filnavn": d.dokumentNavn, "vedleggstype": None} for d in item["vedlegg"]
        ],
    }


def _legacy_ettersending(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "tema": item["tema"],
        "tittel": item["tittel"],
        "kommentar": item["kommentar"],
        "vedleggsliste": [
            {"filnavn": d.dokumentNavn, "vedleggstype": None} for d in item["vedleggsliste"]
        ],
    }


def canonical_supplering(data: dict[str, Any]) -> dict[str, Any]:
    """A loaded supplering in canonical form: the v2 shape, saksnummer parts as strings."""
    out: dict[str, Any] = {"innsendingReferanse": data["innsendingReferanse"]}
    saksnummer = data["kommunensSaksnummer"]
    if saksnummer is not None:
        out["kommunensSaksnummer"] = {
            "saksaar": saksnummer.saksaar,
            "sakssekvensnummer": saksnummer.sakssekvensnummer,
        }
    if data["utfallSvar"]:
        out["utfallBesvarelse"] = {"utfallSvar": [utfall_svar_json(s) for s in data["utfallSvar"]]}
    if data["ettersending"]:
        out["ettersendinger"] = {
            "ettersending": [
                {
                    "tema": kode_json(e["tema"], codelists.TEMA),
                    "tittel": e["tittel"],
                    **({"kommentar": e["kommentar"]} if e["kommentar"] is not None else {}),
                    "vedleggsliste": {"vedlegg": [vedlegg_json(v) for v in e["vedleggsliste"]]},
                }
                for e in data["ettersending"]
            ]
        }
    return out


def utfall_svar(item: dict[str, Any]) -> UtfallSvar:
    """One loaded utfallSvar as the domain's answer."""
    fra = item["utloestFraSjekkpunkt"] or {}
    return UtfallSvar(
        utfallId=item["utfallId"],
        felt=item.get("felt", ""),
        erUtfallBesvart=item["erUtfallBesvart"],
        erUtfallBesvaresSenere=item["erUtfallBesvaresSenere"],
        utfallType=item["utfallType"],
        tema=item["tema"],
        tittel=item["tittel"],
        sjekkpunktId=fra.get("sjekkpunktId"),
        sjekkpunktEier=fra.get("sjekkpunktEier"),
        kommentar=item["kommentar"],
        vedleggstyper=[v["vedleggstype"] for v in item["vedleggsliste"] if v["vedleggstype"]],
        vedlegg=len(item["vedleggsliste"]),
    )


def supplering_event(data: dict[str, Any]) -> MottaSupplering:
    """Turn a loaded supplering body into the kommune event that receives it (its
    reference is drawn when it is written)."""
    return MottaSupplering(
        innsendingReferanse=data["innsendingReferanse"],
        kommunensSaksnummer=data["kommunensSaksnummer"],
        svar=[utfall_svar(s) for s in data["utfallSvar"]],
        ettersending=[
            {"tema": e["tema"], "tittel": e["tittel"], "kommentar": e["kommentar"] or ""}
            for e in data["ettersending"]
        ],
    )
