"""Marshmallow schemas of what the sandbox emits (utkast-2022 profile).

They are the OpenAPI description of the simulated API, and the tests load every
emitted payload through them with unknown keys refused, so the description and the
wire cannot drift apart.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields

TEXT = fields.String


class Strict(Schema):
    """Refuse keys the description does not list."""

    class Meta:
        unknown = RAISE


class KodeOut(Strict):
    """A DiBK code: kodeverdi and kodebeskrivelse."""

    kodeverdi = TEXT(required=True)
    kodebeskrivelse = TEXT(required=True)


class MetadataOut(Strict):
    """metadata: sender, reference(s), and when it was sent."""

    fraEbyggesaksystem = TEXT(required=True, metadata={"example": "Sandkasse eByggesak"})
    innsendingReferanse = fields.Raw(
        required=True,
        metadata={"description": "A string; a list of strings in oppdatering (merged cases)."},
    )
    ftBID = fields.Raw(metadata={"description": "String, or a list in oppdatering."})
    avsenderId = TEXT(required=True, metadata={"pattern": r"^\d{4}$|^\d{9}$"})
    avsenderNavn = TEXT(required=True)
    ekspedertDato = TEXT(required=True, metadata={"format": "date-time"})
    offentligJournalUrl = TEXT()


class SaksnummerOut(Strict):
    """saksnummer; every part a string."""

    saksaar = TEXT(required=True, metadata={"example": "2024"})
    sakssekvensnummer = TEXT(required=True, metadata={"example": "118"})
    journalpostnummer = TEXT(metadata={"example": "3"})


class KontaktpunktOut(Strict):
    """avsenderKontaktpunkt / saksbehandler."""

    navn = TEXT(required=True)
    epost = TEXT()
    telefon = TEXT()
    mobil = TEXT()


class EkstraMetadataOut(Strict):
    """key/value from 'Metadata om vedlegg'."""

    key = TEXT(required=True)
    value = TEXT(required=True)


class MottattDokumentOut(Strict):
    """A received file."""

    dokumentNavn = TEXT(required=True)
    mimeType = TEXT(required=True)
    dokumentStorrelse = TEXT(required=True)
    ekstraMetadata = fields.List(fields.Nested(EkstraMetadataOut))


class UtgaaendeDokumentOut(Strict):
    """An outgoing letter."""

    dokumentTittel = TEXT(required=True)
    filStorrelse = TEXT(required=True)
    dokumentUrl = TEXT(required=True)
    distribusjonsmetode = fields.List(TEXT(), required=True)


class KvitteringOut(Strict):
    """Kvittering v2, as DiBK's implemented JSON example."""

    metadata = fields.Nested(MetadataOut, required=True)
    saksnummer = fields.Nested(SaksnummerOut, required=True)
    milepael = TEXT(required=True, data_key="milepæl", metadata={"example": "MS"})
    mottattDato = TEXT(required=True, metadata={"format": "date-time"})
    registrertDato = TEXT(required=True, metadata={"format": "date-time"})
    mottattDokument = fields.List(fields.Nested(MottattDokumentOut), required=True)
    avsenderKontaktpunkt = fields.Nested(KontaktpunktOut)
    saksbehandlingsfrist = TEXT(metadata={"format": "date-time"})
    melding = fields.List(TEXT())


class EndringAvSaksnummerOut(Strict):
    """A saksnummer change (endring, samling, splitting)."""

    typeOppdatering = TEXT(required=True)
    opprinneligSaksnummer = fields.List(fields.Nested(SaksnummerOut), required=True)
    tilSaksnummer = fields.List(fields.Nested(SaksnummerOut), required=True)
    tidspunkt = TEXT(metadata={"format": "date-time"})


class NokkelinfoOut(Strict):
    """Key information that changed: only what is new."""

    saksnummer = fields.Nested(SaksnummerOut)
    endringAvSaksnummer = fields.Nested(EndringAvSaksnummerOut)
    saksbehandler = fields.Nested(KontaktpunktOut)
    soknadstype = fields.Nested(KodeOut)
    tiltakstype = fields.List(fields.Nested(KodeOut))
    saksbehandlingsfrist = TEXT(metadata={"format": "date-time"})
    saksbehandlingsfristStatus = TEXT(
        metadata={"enum": ["ikke_startet", "loper", "pauset", "stoppet"]}
    )


class UtloestFraSjekkpunktOut(Strict):
    """The checklist point that raised the outcome, and its owner (the checklist's Eier)."""

    sjekkpunktId = TEXT(required=True, metadata={"example": "1.73"})
    sjekkpunktEier = TEXT(required=True, metadata={"example": "dibk"})


class UtfallOut(Strict):
    """An outcome on a sjekkpunkt (mangel, vilkår, oppfølgingspunkt, the decision)."""

    sjekkpunktId = TEXT()
    utfall = fields.Nested(KodeOut, required=True)
    prosesskategori = fields.Nested(KodeOut, required=True)
    tittel = TEXT(required=True)
    beskrivelse = TEXT()
    utfallId = TEXT(
        required=True,
        metadata={"description": "The outcome's id; the søker answers it by this (utfallSvar)."},
    )
    utfallType = fields.Nested(KodeOut, metadata={"description": "MG, SVV or MKV."})
    tema = fields.Nested(KodeOut, required=True)
    utloestFraSjekkpunkt = fields.Nested(UtloestFraSjekkpunktOut)
    mangelID = TEXT(
        metadata={"description": "Profile utkast-2022: a mangel's id, the same value as utfallId."}
    )
    svarfrist = TEXT(metadata={"format": "date-time"})
    besvart = fields.Boolean()
    status = TEXT(
        metadata={
            "enum": ["aapen", "besvart", "besvaresSenere"],
            "description": "In the status view: open, answered, or declared answered later.",
        }
    )


class VedtakOut(Strict):
    """The decision."""

    resultat = TEXT(required=True, metadata={"enum": ["innvilget", "avslag", "avvisning"]})
    vedtaksdato = TEXT(required=True, metadata={"format": "date-time"})


class OppdateringOut(Strict):
    """An oppdatering: metadata always, and only what is new or changed."""

    sekvensnummer = TEXT(required=True)
    metadata = fields.Nested(MetadataOut, required=True)
    oppdatertDato = TEXT(required=True, metadata={"format": "date-time"})
    hendelse = TEXT(required=True)
    soknadStatus = TEXT()
    nokkelinfo = fields.Nested(NokkelinfoOut)
    utfall = fields.List(fields.Nested(UtfallOut))
    vedtak = fields.Nested(VedtakOut)
    melding = fields.List(TEXT())
    utgaaendeDokument = fields.List(fields.Nested(UtgaaendeDokumentOut))


class StatusOut(Strict):
    """The current view of one innsending."""

    metadata = fields.Nested(MetadataOut, required=True)
    statusInnsending = TEXT(required=True)
    journalfort = fields.Boolean(required=True)
    mottattDato = TEXT(required=True)
    registrertDato = TEXT()
    sammeSakSom = TEXT(
        metadata={
            "description": "Sandbox assumption: for a follow-up søknad (IG, MB, FA), the "
            "innsendingReferanse of the søknad whose case it was placed on."
        }
    )
    milepael = TEXT(data_key="milepæl")
    soknadStatus = TEXT()
    soknadstype = fields.Nested(KodeOut, required=True)
    tiltakstype = fields.List(fields.Nested(KodeOut), required=True)
    saksnummer = fields.Nested(SaksnummerOut)
    fordelingssak = fields.Boolean()
    relaterteSaksnummer = fields.List(fields.Nested(SaksnummerOut))
    saksnummerHistorikk = fields.List(fields.Nested(EndringAvSaksnummerOut))
    avsenderKontaktpunkt = fields.Nested(KontaktpunktOut)
    saksbehandlingsfrist = TEXT()
    saksbehandlingsfristStatus = TEXT(required=True)
    komplett = fields.Boolean(required=True)
    mangler = fields.List(fields.Nested(UtfallOut))
    utfall = fields.List(
        fields.Nested(UtfallOut),
        metadata={
            "description": "Every outcome to answer (mangler, vilkår, oppfølgingspunkter) "
            "with its utfallId and status."
        },
    )
    vedtak = fields.Nested(VedtakOut)
    utgaaendeDokument = fields.List(fields.Nested(UtgaaendeDokumentOut))
    antallOppdateringer = TEXT(required=True)
    sisteSekvensnummer = TEXT()
    kvitteringUrl = TEXT(required=True)
    oppdateringUrl = TEXT(required=True)


class ProblemItemOut(Strict):
    """One field problem."""

    rule = TEXT(required=True, metadata={"example": "innsending.soknadstype.kodeverdi"})
    field = TEXT(required=True, metadata={"example": "soknadstype"})
    message = TEXT(required=True)
    messagetype = TEXT(required=True, metadata={"example": "ERROR"})


class ProblemOut(Strict):
    """application/problem+json error body."""

    title = TEXT(required=True)
    status = fields.Integer(required=True)
    detail = TEXT(required=True)
    errors = fields.List(fields.Nested(ProblemItemOut), required=True)
