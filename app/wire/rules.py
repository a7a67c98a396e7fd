"""DiBK's validation rules, applied to every payload the sandbox emits.

The messages are DiBK's Norwegian rule texts where they are published (metadata,
avsenderId, ekspedertDato, TypeOppdatering, cardinalities) and the sandbox's own, in
the same style, elsewhere. A payload that breaks one is a sandbox bug: the engine
raises :class:`~app.errors.EmissionRejected` instead of sending it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from app.domain import codelists, codes
from app.errors import Problem
from app.wire.dates import ISO_UTC, parse_iso

Api = Literal["kvittering", "oppdatering", "status"]
AVSENDER_ID = re.compile(r"^\d{4}$|^\d{9}$")
DIGITS = re.compile(r"^\d+$")

# Events whose oppdatering must carry an outgoing document (mangel, vedtak).
NEEDS_DOCUMENT = {"mangel", "vedtak"}


def check(api: Api, payload: dict[str, Any], now: datetime) -> list[Problem]:
    """Return every rule ``payload`` breaks for ``api``; empty when it is valid."""
    problems: list[Problem] = []
    add = problems.append
    _check_metadata(api, payload.get("metadata"), now, add)
    if api == "kvittering":
        _check_saksnummer(payload.get("saksnummer"), "saksnummer", add, required=True)
        if payload.get("milepæl") is None:
            add(Problem("kvittering.milepæl.påkrevd", "milepæl", "Du må fylle ut milepæl."))
        elif payload["milepæl"] not in codes.MILEPAEL:
            add(_code("milepæl", payload["milepæl"], codes.MILEPAEL))
        for key in ("mottattDato", "registrertDato"):
            _check_date(payload.get(key), key, add, required=True)
        if not payload.get("mottattDokument"):
            add(
                Problem(
                    "kvittering.mottattDokument.påkrevd",
                    "mottattDokument",
                    "Du må fylle ut mottatte dokumenter.",
                )
            )
    if api == "oppdatering":
        _check_oppdatering(payload, add)
    if api == "status" and payload.get("journalfort"):
        _check_saksnummer(payload.get("saksnummer"), "saksnummer", add, required=True)
    for key in ("mangler", "utfall") if api == "status" else ():
        for index, utfall in enumerate(payload.get(key) or []):
            _check_utfall_id(utfall, f"{key}[{index}]", add)
    _check_date(payload.get("saksbehandlingsfrist"), "saksbehandlingsfrist", add, required=False)
    if payload.get("milepæl") is not None and payload["milepæl"] not in codes.MILEPAEL:
        add(_code("milepæl", payload["milepæl"], codes.MILEPAEL))
    for index, dokument in enumerate(payload.get("utgaaendeDokument") or []):
        _check_dokument(dokument, f"utgaaendeDokument[{index}]", add)
    return problems


def _check_metadata(api: Api, block: Any, now: datetime, add: Any) -> None:
    if not isinstance(block, dict):
        add(Problem("metadata.påkrevd", "metadata", "Du må fylle ut metadata om forsendelsen."))
        return
    if not block.get("fraEbyggesaksystem"):
        add(
            Problem(
                "metadata.fraEbyggesaksystem.påkrevd",
                "metadata.fraEbyggesaksystem",
                "Du må fylle ut navnet på eByggesakssystemet som oppdateringen sendes fra.",
            )
        )
    ref = block.get("innsendingReferanse")
    ref_ok = (
        bool(ref) and isinstance(ref, list) and all(isinstance(r, str) and r for r in ref)
        if api == "oppdatering"
        else isinstance(ref, str) and bool(ref)
    )
    if not ref_ok:
        add(
            Problem(
                "metadata.innsendingReferanse.påkrevd",
                "metadata.innsendingReferanse",
                "Du må fylle ut referansen til innsendingen som oppdateringen svarer på.",
            )
        )
    avsender = block.get("avsenderId")
    if not avsender:
        add(
            Problem(
                "metadata.avsenderId.påkrevd",
                "metadata.avsenderId",
                "Du må fylle ut AvsenderID med kommunenummer eller organisasjonsnummer.",
            )
        )
    elif not isinstance(avsender, str) or not AVSENDER_ID.match(avsender):
        add(
            Problem(
                "metadata.avsenderId.format",
                "metadata.avsenderId",
                f"'AvsenderID' ({avsender}) er på feil format. Den skal være et kommunenummer "
                "med 4 siffer eller et organisasjonsnummer med 9 siffer.",
            )
        )
    if not block.get("avsenderNavn"):
        add(
            Problem(
                "metadata.avsenderNavn.påkrevd",
                "metadata.avsenderNavn",
                "Du må fylle ut navnet på kommunen eller sektormyndigheten.",
            )
        )
    ekspedert = block.get("ekspedertDato")
    if _check_date(ekspedert, "metadata.ekspedertDato", add, required=True) and (
        parse_iso(str(ekspedert)) > now
    ):
        add(
            Problem(
                "metadata.ekspedertDato.fremtid",
                "metadata.ekspedertDato",
                "'EkspedertDato' kan ikke være nyere enn dagens dato.",
            )
        )


def _check_oppdatering(payload: dict[str, Any], add: Any) -> None:
    _check_date(payload.get("oppdatertDato"), "oppdatertDato", add, required=True)
    nokkelinfo = payload.get("nokkelinfo") or {}
    if "saksnummer" in nokkelinfo:
        _check_saksnummer(nokkelinfo["saksnummer"], "nokkelinfo.saksnummer", add, required=True)
    endring = nokkelinfo.get("endringAvSaksnummer")
    if endring is not None:
        _check_endring(endring, add)
    hendelse = payload.get("hendelse")
    needs_document = hendelse in NEEDS_DOCUMENT or "soknadstype" in nokkelinfo
    if needs_document and not payload.get("utgaaendeDokument"):
        add(
            Problem(
                "oppdatering.utgaaendeDokument.påkrevd",
                "utgaaendeDokument",
                "Du må legge ved utgående dokument for mangel, vedtak og endret søknadstype.",
            )
        )
    if hendelse == "vedtak" and not payload.get("utfall"):
        add(
            Problem(
                "oppdatering.utfall.påkrevd",
                "utfall",
                "Du må fylle ut sjekklisteutfall når vedtaket har vilkår eller oppfølgingspunkt.",
            )
        )
    for index, utfall in enumerate(payload.get("utfall") or []):
        code = (utfall.get("utfall") or {}).get("kodeverdi")
        if code not in codes.UTFALL:
            add(_code(f"utfall[{index}].utfall", code, codes.UTFALL))
        _check_utfall_id(utfall, f"utfall[{index}]", add)
        if hendelse == "mangel":
            if code not in codes.MANGEL_UTFALL:
                add(_code(f"utfall[{index}].utfall", code, dict.fromkeys(codes.MANGEL_UTFALL, "")))
            if not utfall.get("mangelID"):
                add(
                    Problem(
                        "oppdatering.utfall.mangelID.påkrevd",
                        f"utfall[{index}].mangelID",
                        "Du må fylle ut mangelID for hver mangel.",
                    )
                )
            _check_date(utfall.get("svarfrist"), f"utfall[{index}].svarfrist", add, required=True)


def _check_utfall_id(utfall: dict[str, Any], path: str, add: Any) -> None:
    """Every outcome carries its utfallId, tema and (on a sjekkpunkt) utloestFraSjekkpunkt; a
    mangel, vilkår or oppfølgingspunkt its utfallType; a mangelID is the same value."""
    utfall_id = utfall.get("utfallId")
    if not isinstance(utfall_id, str) or not utfall_id:
        add(Problem("utfall.utfallId.påkrevd", f"{path}.utfallId", "Du må fylle ut utfallId."))
    if "mangelID" in utfall and utfall["mangelID"] != utfall_id:
        add(
            Problem(
                "utfall.mangelID.ulik",
                f"{path}.mangelID",
                f"mangelID ({utfall['mangelID']}) skal være lik utfallId ({utfall_id}).",
            )
        )
    code = (utfall.get("utfall") or {}).get("kodeverdi")
    wanted = codes.utfall_type(code) if isinstance(code, str) else None
    got = (utfall.get("utfallType") or {}).get("kodeverdi")
    if wanted is not None and got != wanted:
        add(_code(f"{path}.utfallType", got, {wanted: ""}))
    tema = (utfall.get("tema") or {}).get("kodeverdi")
    if tema not in codelists.TEMA.koder:
        add(_code(f"{path}.tema", tema, codelists.TEMA.koder))
    fra = utfall.get("utloestFraSjekkpunkt")
    if utfall.get("sjekkpunktId") and (
        not isinstance(fra, dict) or fra.get("sjekkpunktId") != utfall["sjekkpunktId"]
    ):
        add(
            Problem(
                "utfall.utloestFraSjekkpunkt.påkrevd",
                f"{path}.utloestFraSjekkpunkt",
                "Du må fylle ut utloestFraSjekkpunkt med sjekkpunktId og sjekkpunktEier.",
            )
        )


def _check_endring(endring: dict[str, Any], add: Any) -> None:
    kind = endring.get("typeOppdatering")
    if kind not in codes.TYPE_ENDRING_SAKSNUMMER:
        add(
            Problem(
                "endretSaksnummer.typeOppdatering.kodeverdi",
                "nokkelinfo.endringAvSaksnummer.typeOppdatering",
                f"'{kind}' er en ugyldig kodeverdi for 'TypeOppdatering'. Gyldige kodeverdier "
                "er: endring, samling, splitting.",
            )
        )
        return
    fra = len(endring.get("opprinneligSaksnummer") or [])
    til = len(endring.get("tilSaksnummer") or [])
    ok_fra = fra >= 2 if kind == "samling" else fra == 1
    ok_til = til >= 2 if kind == "splitting" else til == 1
    if not ok_fra:
        add(
            Problem(
                "endretSaksnummer.opprinneligSaksnummer.antall",
                "nokkelinfo.endringAvSaksnummer.opprinneligSaksnummer",
                f"Feil antall opprinnelige saksnummer ({fra}) for '{kind}'.",
            )
        )
    if not ok_til:
        add(
            Problem(
                "endretSaksnummer.tilSaksnummer.antall",
                "nokkelinfo.endringAvSaksnummer.tilSaksnummer",
                f"Feil antall nye saksnummer ({til}) for '{kind}'.",
            )
        )


def _check_saksnummer(value: Any, path: str, add: Any, *, required: bool) -> None:
    if value is None:
        if required:
            add(Problem(f"{path}.påkrevd", path, "Du må fylle ut saksnummer."))
        return
    for key in ("saksaar", "sakssekvensnummer"):
        part = value.get(key)
        if not isinstance(part, str) or not DIGITS.match(part):
            add(
                Problem(
                    f"saksnummer.{key}.format",
                    f"{path}.{key}",
                    f"'{key}' skal være et tall skrevet som tekst.",
                )
            )
    journalpost = value.get("journalpostnummer")
    if journalpost is not None and (
        not isinstance(journalpost, str) or not DIGITS.match(journalpost)
    ):
        add(
            Problem(
                "saksnummer.journalpostnummer.format",
                f"{path}.journalpostnummer",
                "'journalpostnummer' skal være et tall skrevet som tekst.",
            )
        )


def _check_dokument(dokument: dict[str, Any], path: str, add: Any) -> None:
    metoder = dokument.get("distribusjonsmetode")
    if not metoder:
        add(
            Problem(
                "utgaaendeDokument.distribusjonsmetode.påkrevd",
                f"{path}.distribusjonsmetode",
                "Du må fylle ut distribusjonsmetode for hvert utgående dokument.",
            )
        )
        return
    for metode in metoder:
        if metode not in codes.DISTRIBUSJONSMETODE:
            add(_code(f"{path}.distribusjonsmetode", metode, codes.DISTRIBUSJONSMETODE))
    if "fellestjenesterBygg" in metoder and not dokument.get("dokumentUrl"):
        add(
            Problem(
                "utgaaendeDokument.dokumentUrl.påkrevd",
                f"{path}.dokumentUrl",
                "Du må fylle ut DokumentUrl når distribusjonsmetode er Fellestjenester BYGG.",
            )
        )
    if not dokument.get("dokumentTittel"):
        add(
            Problem(
                "utgaaendeDokument.dokumentTittel.påkrevd",
                f"{path}.dokumentTittel",
                "Du må fylle ut tittel på utgående dokument.",
            )
        )


def _check_date(value: Any, path: str, add: Any, *, required: bool) -> bool:
    """Check an ISO-8601 UTC date; return True when present and well-formed."""
    if value is None:
        if required:
            add(Problem(f"{path}.påkrevd", path, f"Du må fylle ut '{path}'."))
        return False
    if not isinstance(value, str) or not ISO_UTC.match(value):
        add(
            Problem(
                f"{path}.format",
                path,
                f"'{path}' ({value}) skal være ISO-8601 i UTC med millisekunder, "
                "f.eks. 2023-01-25T10:02:44.711Z.",
            )
        )
        return False
    return True


def _code(path: str, value: Any, liste: dict[str, str]) -> Problem:
    return Problem(
        f"{path}.kodeverdi",
        path,
        f"'{value}' er en ugyldig kodeverdi for '{path}'. "
        f"Gyldige kodeverdier er: {', '.join(liste)}.",
    )
