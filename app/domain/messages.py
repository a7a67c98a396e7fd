"""What the kommune tells the client: a kvittering once, then oppdateringer with what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.case import (
    Kontaktpunkt,
    Mangel,
    MottattDokument,
    Saksnummer,
    SaksnummerEndring,
    UtgaaendeDokument,
    Vedtakspunkt,
)


@dataclass
class Utfall:
    """An outcome on a sjekkpunkt, as sent in an oppdatering."""

    sjekkpunktId: str
    utfall: str
    tittel: str
    beskrivelse: str
    prosesskategori: str
    mangelID: str | None = None
    svarfrist: datetime | None = None
    utfallId: str = ""
    tema: str = "generelt"
    sjekkpunktEier: str = "dibk"

    @classmethod
    def from_mangel(cls, mangel: Mangel) -> Utfall:
        """The utfall that announces a mangel."""
        return cls(
            sjekkpunktId=mangel.sjekkpunktId,
            utfall=mangel.utfall,
            tittel=mangel.tittel,
            beskrivelse=mangel.beskrivelse,
            prosesskategori=mangel.prosesskategori,
            mangelID=mangel.mangelID,
            svarfrist=mangel.svarfrist,
            utfallId=mangel.utfallId,
            tema=mangel.tema,
            sjekkpunktEier=mangel.sjekkpunktEier,
        )

    @classmethod
    def from_vedtakspunkt(cls, punkt: Vedtakspunkt) -> Utfall:
        """The utfall that carries a vilkår or oppfølgingspunkt."""
        return cls(
            sjekkpunktId=punkt.sjekkpunktId,
            utfall=punkt.utfall,
            tittel=punkt.tittel,
            beskrivelse=punkt.beskrivelse,
            prosesskategori=punkt.prosesskategori,
            utfallId=punkt.utfallId,
            tema=punkt.tema,
            sjekkpunktEier=punkt.sjekkpunktEier,
        )


@dataclass
class Kvittering:
    """The receipt issued once, on journalføring."""

    innsendingReferanse: str
    ftBID: str | None
    ekspedertDato: datetime
    saksnummer: Saksnummer
    mottattDato: datetime
    registrertDato: datetime
    mottattDokument: list[MottattDokument]
    milepael: str = "MS"
    saksbehandler: Kontaktpunkt | None = None
    saksbehandlingsfrist: datetime | None = None
    melding: list[str] = field(default_factory=list)


@dataclass
class VedtakInfo:
    """The decision itself, as carried in an oppdatering."""

    resultat: str
    vedtaksdato: datetime


@dataclass
class Oppdatering:
    """One update: metadata always, and only what is new or changed."""

    hendelse: str
    innsendingReferanser: list[str]
    ftBIDer: list[str]
    ekspedertDato: datetime
    soknadStatus: str | None = None
    saksnummer: Saksnummer | None = None
    endringAvSaksnummer: SaksnummerEndring | None = None
    saksbehandler: Kontaktpunkt | None = None
    soknadstype: str | None = None
    tiltakstyper: list[str] | None = None
    saksbehandlingsfrist: datetime | None = None
    fristStatus: str | None = None
    utfall: list[Utfall] = field(default_factory=list)
    melding: list[str] = field(default_factory=list)
    utgaaendeDokument: list[UtgaaendeDokument] = field(default_factory=list)
    vedtak: VedtakInfo | None = None


Melding = Kvittering | Oppdatering
