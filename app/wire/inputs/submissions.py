"""What a søknadssystem sends: the innsending (søknad) and the supplering, and their parts."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, pre_load, validate

from app import limits
from app.domain import codes
from app.domain.case import Kontaktpunkt, MottattDokument, Saksnummer
from app.wire.inputs.base import BoundedList, DigitString, WireSchema, one_of, text
from app.wire.inputs.forms import FTB_ID, FTB_ID_ERROR, Kodeverdi


class SaksnummerSchema(WireSchema):
    """saksnummer: saksaar, sakssekvensnummer (and journalpostnummer), all strings."""

    saksaar = DigitString(required=True, validate=validate.Length(equal=4))
    sakssekvensnummer = DigitString(required=True, validate=text(10, least=1))
    journalpostnummer = DigitString(load_default=None, validate=text(20))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Saksnummer:
        return Saksnummer(**data)


class KontaktpunktSchema(WireSchema):
    """avsenderKontaktpunkt: the caseworker or department."""

    navn = fields.String(required=True, validate=text(limits.NAME, least=1))
    epost = fields.Email(load_default=None, validate=text(limits.NAME))
    telefon = fields.String(load_default=None, validate=text(30))
    mobil = fields.String(load_default=None, validate=text(30))

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Kontaktpunkt:
        return Kontaktpunkt(**data)


class EkstraMetadataSchema(WireSchema):
    """A key/value pair from DiBK's 'Metadata om vedlegg'."""

    key = fields.String(required=True, validate=text(limits.NAME, least=1))
    value = fields.String(required=True, validate=text())


class MottattDokumentSchema(WireSchema):
    """A file submitted with an innsending or a supplering."""

    dokumentNavn = fields.String(required=True, validate=text(limits.FILE_NAME, least=1))
    mimeType = fields.String(required=True, validate=text(100, least=1))
    dokumentStorrelse = DigitString(required=True, validate=text(15))
    ekstraMetadata = BoundedList(
        fields.Nested(EkstraMetadataSchema), most=limits.METADATA, load_default=list
    )

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> MottattDokument:
        return MottattDokument(**data)


class InnsendingSchema(WireSchema):
    """POST /api/v1/innsending: the søknad the client submits (sandbox stand-in for Altinn/FtB)."""

    soknadstype = fields.String(required=True, validate=one_of(codes.SOKNADSTYPE, "soknadstype"))
    tiltakstype = BoundedList(
        fields.String(validate=one_of(codes.TILTAKSTYPE, "tiltakstype")),
        most=limits.CODES,
        required=True,
        validate=validate.Length(min=1, error="Du må oppgi minst én tiltakstype."),
    )
    kommunenummer = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}$", error="Kommunenummer skal være fire siffer."),
    )
    ftBID = fields.String(
        load_default=None,
        validate=validate.Regexp(FTB_ID, error=FTB_ID_ERROR),
    )
    tittel = fields.String(load_default=None, validate=text(limits.NAME))
    dokumenter = BoundedList(
        fields.Nested(MottattDokumentSchema),
        most=limits.DOCUMENTS,
        required=True,
        validate=validate.Length(min=1, error="Du må sende med minst ett dokument."),
    )


class MangelbesvarelseSchema(WireSchema):
    """A structured answer to one mangel, echoing the kommune's mangelID."""

    mangelID = fields.String(required=True, validate=text(limits.IDENTIFIER, least=1))
    kommentar = fields.String(load_default=None, validate=text())
    vedlegg = BoundedList(
        fields.Nested(MottattDokumentSchema), most=limits.DOCUMENTS, load_default=list
    )
    # Supplering v2's utfallSvar flag: the søker will answer this mangel later.
    erUtfallBesvaresSenere = fields.Boolean(load_default=False)

    @pre_load
    def _mangel_id_spellings(self, data: Any, **kwargs: Any) -> Any:
        # DiBK spells it mangelID; the split APIs' examples use mangelId. Accept both.
        if isinstance(data, dict) and "mangelId" in data and "mangelID" not in data:
            data = dict(data)
            data["mangelID"] = data.pop("mangelId")
        return data


class EttersendingSchema(WireSchema):
    """New information not triggered by a mangel."""

    tema = Kodeverdi(
        required=True,
        koder=codes.ETTERSENDING_TEMA,
        validate=one_of(codes.ETTERSENDING_TEMA, "tema"),
    )
    tittel = fields.String(required=True, validate=text(limits.NAME, least=1))
    kommentar = fields.String(load_default=None, validate=text())
    vedleggsliste = BoundedList(
        fields.Nested(MottattDokumentSchema), most=limits.DOCUMENTS, load_default=list
    )
