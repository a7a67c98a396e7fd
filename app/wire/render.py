"""Render domain messages as the ``utkast-2022`` profile's JSON: kvittering v2, oppdatering, status.

Field names are DiBK's, exactly: camelCase, ``fraEbyggesaksystem`` with one "s",
``ftBID``, ``avsenderId``, the key ``milepæl`` with "æ", numbers as strings and dates
as ISO-8601 UTC with milliseconds. Optional blocks are left out rather than sent null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain import codelists, codes
from app.domain.case import (
    Innsending,
    Kontaktpunkt,
    Mangel,
    MottattDokument,
    Sak,
    Saksnummer,
    SaksnummerEndring,
    Utfallspunkt,
    UtgaaendeDokument,
    utfall_state,
)
from app.domain.messages import Kvittering, Oppdatering, Utfall
from app.wire.dates import iso

PROFILE = "utkast-2022"


def metadata(
    sak: Sak,
    innsendingReferanse: str | list[str],
    ftBID: str | list[str] | None,
    ekspedert: datetime,
    saksnummer: Saksnummer | None,
) -> dict[str, Any]:
    """The metadata block every API carries."""
    block: dict[str, Any] = {
        "fraEbyggesaksystem": sak.fraEbyggesaksystem,
        "innsendingReferanse": innsendingReferanse,
    }
    if ftBID:
        block["ftBID"] = ftBID
    block.update(
        {
            "avsenderId": sak.kommunenummer,
            "avsenderNavn": f"{sak.kommunenavn} kommune",
            "ekspedertDato": iso(ekspedert),
        }
    )
    if saksnummer is not None:
        block["offentligJournalUrl"] = (
            f"https://postjournal.sandbox.invalid/{sak.kommunenummer}/sak/"
            f"{saksnummer.saksaar}-{saksnummer.sakssekvensnummer}"
        )
    return block


def saksnummer_json(saksnummer: Saksnummer) -> dict[str, str]:
    """saksnummer as strings; journalpostnummer only when known."""
    out = {"saksaar": saksnummer.saksaar, "sakssekvensnummer": saksnummer.sakssekvensnummer}
    if saksnummer.journalpostnummer is not None:
        out["journalpostnummer"] = saksnummer.journalpostnummer
    return out


def kontaktpunkt_json(kontakt: Kontaktpunkt) -> dict[str, str]:
    """avsenderKontaktpunkt without empty fields."""
    out = {"navn": kontakt.navn}
    for key in ("epost", "telefon", "mobil"):
        value = getattr(kontakt, key)
        if value:
            out[key] = value
    return out


def mottatt_dokument_json(dokument: MottattDokument) -> dict[str, Any]:
    """One entry of mottattDokument."""
    out: dict[str, Any] = {
        "dokumentNavn": dokument.dokumentNavn,
        "mimeType": dokument.mimeType,
        "dokumentStorrelse": dokument.dokumentStorrelse,
    }
    if dokument.ekstraMetadata:
        out["ekstraMetadata"] = [dict(item) for item in dokument.ekstraMetadata]
    return out


def utgaaende_json(dokument: UtgaaendeDokument) -> dict[str, Any]:
    """One entry of utgaaendeDokument."""
    return {
        "dokumentTittel": dokument.dokumentTittel,
        "filStorrelse": dokument.filStorrelse,
        "dokumentUrl": dokument.dokumentUrl,
        "distribusjonsmetode": list(dokument.distribusjonsmetode),
    }


def endring_json(endring: SaksnummerEndring) -> dict[str, Any]:
    """A saksnummer change: typeOppdatering with the original and the new numbers."""
    return {
        "typeOppdatering": endring.typeOppdatering,
        "opprinneligSaksnummer": [saksnummer_json(s) for s in endring.opprinneligSaksnummer],
        "tilSaksnummer": [saksnummer_json(s) for s in endring.tilSaksnummer],
    }


def utfall_json(utfall: Utfall) -> dict[str, Any]:
    """One outcome on a sjekkpunkt, with the id and codes a søker answers it by (utfallSvar)."""
    out: dict[str, Any] = {}
    if utfall.sjekkpunktId:
        out["sjekkpunktId"] = utfall.sjekkpunktId
    out["utfall"] = codes.kode(utfall.utfall, codes.UTFALL)
    out["prosesskategori"] = codes.kode(utfall.prosesskategori, codes.SOKNADSTYPE)
    out["tittel"] = utfall.tittel
    if utfall.beskrivelse:
        out["beskrivelse"] = utfall.beskrivelse
    out["utfallId"] = utfall.utfallId
    utfall_type = codes.utfall_type(utfall.utfall)
    if utfall_type is not None:
        out["utfallType"] = codelists.UTFALLTYPE.kode(utfall_type)
    out["tema"] = codelists.TEMA.kode(utfall.tema)
    if utfall.sjekkpunktId:
        out["utloestFraSjekkpunkt"] = {
            "sjekkpunktId": utfall.sjekkpunktId,
            "sjekkpunktEier": utfall.sjekkpunktEier,
        }
    # Profile utkast-2022: the 2022 drafts' name for a mangel's id, the same value as utfallId.
    if utfall.mangelID is not None:
        out["mangelID"] = utfall.mangelID
    if utfall.svarfrist is not None:
        out["svarfrist"] = iso(utfall.svarfrist)
    return out


def _as_utfall(punkt: Utfallspunkt) -> Utfall:
    if isinstance(punkt, Mangel):
        return Utfall.from_mangel(punkt)
    return Utfall.from_vedtakspunkt(punkt)


def kvittering_json(kvittering: Kvittering, sak: Sak) -> dict[str, Any]:
    """Kvittering v2 in DiBK's implemented JSON shape."""
    payload: dict[str, Any] = {
        "metadata": metadata(
            sak,
            kvittering.innsendingReferanse,
            kvittering.ftBID,
            kvittering.ekspedertDato,
            kvittering.saksnummer,
        ),
        "saksnummer": saksnummer_json(kvittering.saksnummer),
        "milepæl": kvittering.milepael,
        "mottattDato": iso(kvittering.mottattDato),
        "registrertDato": iso(kvittering.registrertDato),
        "mottattDokument": [mottatt_dokument_json(d) for d in kvittering.mottattDokument],
    }
    if kvittering.saksbehandler is not None:
        payload["avsenderKontaktpunkt"] = kontaktpunkt_json(kvittering.saksbehandler)
    if kvittering.saksbehandlingsfrist is not None:
        payload["saksbehandlingsfrist"] = iso(kvittering.saksbehandlingsfrist)
    if kvittering.melding:
        payload["melding"] = list(kvittering.melding)
    return payload


def oppdatering_json(oppdatering: Oppdatering, sak: Sak, sekvensnummer: int) -> dict[str, Any]:
    """An oppdatering (draft 1): metadata with lists, then only what is new or changed."""
    payload: dict[str, Any] = {
        "sekvensnummer": str(sekvensnummer),
        "metadata": metadata(
            sak,
            list(oppdatering.innsendingReferanser),
            list(oppdatering.ftBIDer),
            oppdatering.ekspedertDato,
            oppdatering.saksnummer,
        ),
        "oppdatertDato": iso(oppdatering.ekspedertDato),
        "hendelse": oppdatering.hendelse,
    }
    if oppdatering.soknadStatus is not None:
        payload["soknadStatus"] = oppdatering.soknadStatus
    nokkelinfo: dict[str, Any] = {}
    if oppdatering.saksnummer is not None:
        nokkelinfo["saksnummer"] = saksnummer_json(oppdatering.saksnummer)
    if oppdatering.endringAvSaksnummer is not None:
        nokkelinfo["endringAvSaksnummer"] = endring_json(oppdatering.endringAvSaksnummer)
    if oppdatering.saksbehandler is not None:
        nokkelinfo["saksbehandler"] = kontaktpunkt_json(oppdatering.saksbehandler)
    if oppdatering.soknadstype is not None:
        nokkelinfo["soknadstype"] = codes.kode(oppdatering.soknadstype, codes.SOKNADSTYPE)
    if oppdatering.tiltakstyper is not None:
        nokkelinfo["tiltakstype"] = [
            codes.kode(t, codes.TILTAKSTYPE) for t in oppdatering.tiltakstyper
        ]
    if oppdatering.saksbehandlingsfrist is not None:
        nokkelinfo["saksbehandlingsfrist"] = iso(oppdatering.saksbehandlingsfrist)
    if oppdatering.fristStatus is not None:
        nokkelinfo["saksbehandlingsfristStatus"] = oppdatering.fristStatus
    if nokkelinfo:
        payload["nokkelinfo"] = nokkelinfo
    if oppdatering.utfall:
        payload["utfall"] = [utfall_json(u) for u in oppdatering.utfall]
    if oppdatering.vedtak is not None:
        payload["vedtak"] = {
            "resultat": oppdatering.vedtak.resultat,
            "vedtaksdato": iso(oppdatering.vedtak.vedtaksdato),
        }
    if oppdatering.melding:
        payload["melding"] = list(oppdatering.melding)
    if oppdatering.utgaaendeDokument:
        payload["utgaaendeDokument"] = [utgaaende_json(d) for d in oppdatering.utgaaendeDokument]
    return payload


def status_json(
    sak: Sak,
    innsending: Innsending,
    now: datetime,
    antall_oppdateringer: int,
    siste_sekvensnummer: int | None,
    dokumenter: list[UtgaaendeDokument],
    base_url: str,
) -> dict[str, Any]:
    """The current view of one innsending (sandbox extension of DiBK's planned status API)."""
    ref = innsending.innsendingReferanse
    payload: dict[str, Any] = {
        "metadata": metadata(sak, ref, innsending.ftBID, now, innsending.saksnummer),
        "statusInnsending": "Ok",
        "journalfort": innsending.journalfort,
        "mottattDato": iso(innsending.mottattDato),
        "soknadstype": codes.kode(innsending.soknadstype, codes.SOKNADSTYPE),
        "tiltakstype": [codes.kode(t, codes.TILTAKSTYPE) for t in innsending.tiltakstyper],
        "saksbehandlingsfristStatus": innsending.frist.status,
        "komplett": innsending.komplett,
        "antallOppdateringer": str(antall_oppdateringer),
        "kvitteringUrl": f"{base_url}/api/v1/kvittering?innsendingReferanse={ref}",
        "oppdateringUrl": f"{base_url}/api/v1/oppdatering?innsendingReferanse={ref}",
    }
    if innsending.registrertDato is not None:
        payload["registrertDato"] = iso(innsending.registrertDato)
    if innsending.sammeSakSom is not None:
        payload["sammeSakSom"] = innsending.sammeSakSom
    if innsending.milepael is not None:
        payload["milepæl"] = innsending.milepael
        payload["soknadStatus"] = innsending.milepael
    if innsending.saksnummer is not None:
        payload["saksnummer"] = saksnummer_json(innsending.saksnummer)
        payload["fordelingssak"] = innsending.fordelingssak
    if innsending.relaterteSaksnummer:
        payload["relaterteSaksnummer"] = [
            saksnummer_json(s) for s in innsending.relaterteSaksnummer
        ]
    if innsending.saksnummerHistorikk:
        payload["saksnummerHistorikk"] = [
            {**endring_json(e), "tidspunkt": iso(e.tidspunkt)}
            for e in innsending.saksnummerHistorikk
        ]
    if innsending.saksbehandler is not None:
        payload["avsenderKontaktpunkt"] = kontaktpunkt_json(innsending.saksbehandler)
    if innsending.frist.dato is not None:
        payload["saksbehandlingsfrist"] = iso(innsending.frist.dato)
    if innsending.mangler:
        payload["mangler"] = [
            {**utfall_json(Utfall.from_mangel(m)), "besvart": m.besvart is not None}
            for m in innsending.mangler
        ]
    punkter = innsending.utfallspunkter()
    if punkter:
        payload["utfall"] = [
            {**utfall_json(_as_utfall(p)), "status": utfall_state(p)} for p in punkter
        ]
    if innsending.vedtak is not None:
        payload["vedtak"] = {
            "resultat": innsending.vedtak.resultat,
            "vedtaksdato": iso(innsending.vedtak.vedtaksdato),
        }
    if dokumenter:
        payload["utgaaendeDokument"] = [utgaaende_json(d) for d in dokumenter]
    if siste_sekvensnummer is not None:
        payload["sisteSekvensnummer"] = str(siste_sekvensnummer)
    return payload
