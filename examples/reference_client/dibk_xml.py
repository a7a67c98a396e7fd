"""DiBK's forms as XML, as a søknadssystem builds them: a follow-up søknad and Supplering v2.

The reference client sends a follow-up søknad (IG, MB, FA) as DiBK's form, naming the case
by ``kommunensSaksnummer`` and answering the earlier vedtak's vilkår and oppfølgingspunkter
by ``utfallId``; and a supplering that declares a mangel answered later as Supplering av
søknad v2. Element names and namespaces are DiBK's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

FORMS = {
    "ET": ("ettrinn", "https://skjema.ft.dibk.no/ettrinn/v4", "10012", "4"),
    "RS": ("ramme", "https://skjema.ft.dibk.no/ramme/v4", "10013", "4"),
    "IG": ("igangsettingstillatelse", "https://skjema.ft.dibk.no/igangsettingstillatelse/v5", "10003", "5"),
    "MB": (
        "midlertidigbrukstillatelse",
        "https://skjema.ft.dibk.no/midlertidigbrukstillatelse/v5",
        "10004",
        "5",
    ),
    "FA": ("ferdigattest", "https://skjema.ft.dibk.no/ferdigattest/v5", "10005", "5"),
}
SUPPLERING = ("suppleringAvSoeknad", "https://skjema.ft.dibk.no/suppleringavsoeknad/v2", "10008", "2")
# DiBK's test data uses a test kommunenummer; the sandbox reads it as the run's kommune.
TEST_KOMMUNE = "9999"
SYSTEM = "Referanseklient"


@dataclass
class Svar:
    """One answer to an outcome: now, or declared answered later."""

    utfall_id: str
    utfall_type: str
    later: bool = False
    kommentar: str = "Vilkåret er oppfylt; dokumentasjon er vedlagt."


def _el(name: str, value: Any) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def _root(form: tuple[str, str, str, str], body: str) -> bytes:
    root, namespace, format_id, version = form
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<{root} xmlns="{namespace}" dataFormatProvider="DIBK" '
        f'dataFormatId="{format_id}" dataFormatVersion="{version}">{body}</{root}>'
    ).encode("utf-8")


def _saksnummer(saksnummer: dict[str, str]) -> str:
    return (
        "<kommunensSaksnummer>"
        + _el("saksaar", int(saksnummer["saksaar"]))
        + _el("sakssekvensnummer", int(saksnummer["sakssekvensnummer"]))
        + "</kommunensSaksnummer>"
    )


def _besvarelse(svar: list[Svar]) -> str:
    if not svar:
        return ""
    items = "".join(
        "<utfallSvar>"
        + _el("utfallId", s.utfall_id)
        + f"<utfallType>{_el('kodeverdi', s.utfall_type)}</utfallType>"
        + _el("erUtfallBesvaresSenere", "true" if s.later else "false")
        + _el("erUtfallBesvart", "false" if s.later else "true")
        + _el("kommentar", s.kommentar)
        + "</utfallSvar>"
        for s in svar
    )
    return f"<utfallBesvarelse>{items}</utfallBesvarelse>"


def soeknad(planned: dict[str, Any], saksnummer: dict[str, str] | None, svar: list[Svar]) -> bytes:
    """The planned søknad (the sandbox's JSON fields) as DiBK's form of its søknadstype."""
    form = FORMS[planned["soknadstype"]]
    kode = "".join(
        f"<kode>{_el('kodeverdi', t)}</kode>" for t in planned.get("tiltakstype") or []
    )
    metadata = _el("fraSluttbrukersystem", SYSTEM)
    if planned.get("tittel"):
        metadata += _el("prosjektnavn", planned["tittel"])
    body = (
        "<eiendomByggested><eiendom><eiendomsidentifikasjon>"
        + _el("kommunenummer", TEST_KOMMUNE)
        + "</eiendomsidentifikasjon></eiendom></eiendomByggested>"
        + (_saksnummer(saksnummer) if saksnummer else "")
        + f"<metadata>{metadata}</metadata>"
        + f"<soeknadGjelder><type>{kode}</type></soeknadGjelder>"
        + _besvarelse(svar)
    )
    return _root(form, body)


def supplering(saksnummer: dict[str, str], svar: list[Svar]) -> bytes:
    """Supplering av søknad v2 answering (or deferring) the given outcomes."""
    metadata = f"<metadata>{_el('fraSluttbrukersystem', SYSTEM)}</metadata>"
    return _root(SUPPLERING, _saksnummer(saksnummer) + metadata + _besvarelse(svar))
