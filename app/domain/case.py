"""The case (sak) a run plays out: its innsendinger and everything the kommune has done."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.frist import Frist


@dataclass
class Saksnummer:
    """A Noark case number; every part is a string on the wire."""

    saksaar: str
    sakssekvensnummer: str
    journalpostnummer: str | None = None

    @property
    def label(self) -> str:
        """Display form ``saksaar/sakssekvensnummer``, e.g. ``2024/118``."""
        return f"{self.saksaar}/{self.sakssekvensnummer}"

    def same_case(self, other: Saksnummer | None) -> bool:
        """True when ``other`` names the same case (journalpost ignored)."""
        return (
            other is not None
            and self.saksaar == other.saksaar
            and self.sakssekvensnummer == other.sakssekvensnummer
        )


@dataclass
class Kontaktpunkt:
    """avsenderKontaktpunkt: the caseworker or department."""

    navn: str
    epost: str | None = None
    telefon: str | None = None
    mobil: str | None = None


@dataclass
class MottattDokument:
    """A file that came with an innsending."""

    dokumentNavn: str
    mimeType: str
    dokumentStorrelse: str
    ekstraMetadata: list[dict[str, str]] = field(default_factory=list)


@dataclass
class UtgaaendeDokument:
    """An outgoing letter published through the dokumentformidler."""

    dokumentId: str
    dokumentTittel: str
    filStorrelse: str
    dokumentUrl: str
    distribusjonsmetode: list[str]


@dataclass
class Mangel:
    """One deficiency in a mangelbrev."""

    mangelID: str
    sjekkpunktId: str
    utfall: str
    tittel: str
    beskrivelse: str
    svarfrist: datetime
    prosesskategori: str
    besvart: datetime | None = None
    # When the søker declared it will be answered later (erUtfallBesvaresSenere); still open.
    besvaresSenere: datetime | None = None
    tema: str = "generelt"
    sjekkpunktEier: str = "dibk"

    @property
    def utfallId(self) -> str:
        """The outcome's id in DiBK's forms: the same value as ``mangelID``."""
        return self.mangelID


@dataclass
class Vedtakspunkt:
    """A vilkår (SVV) or oppfølgingspunkt (MKV) in a vedtak."""

    sjekkpunktId: str
    utfall: str
    tittel: str
    beskrivelse: str
    prosesskategori: str
    utfallId: str = ""
    tema: str = "generelt"
    sjekkpunktEier: str = "dibk"
    besvart: datetime | None = None
    besvaresSenere: datetime | None = None


# An outcome the søker answers by its utfallId (utfallSvar): a mangel, vilkår or oppfølgingspunkt.
Utfallspunkt = Mangel | Vedtakspunkt


def utfall_state(punkt: Utfallspunkt) -> str:
    """``besvart``, ``besvaresSenere`` (declared answered later, still open) or ``aapen``."""
    if punkt.besvart is not None:
        return "besvart"
    return "besvaresSenere" if punkt.besvaresSenere is not None else "aapen"


@dataclass
class Vedtak:
    """The kommune's decision on one søknad."""

    resultat: str
    vedtaksdato: datetime
    punkter: list[Vedtakspunkt] = field(default_factory=list)
    dokumentId: str | None = None
    utfallId: str = ""  # the decision's own outcome (FV, AVS, AVV)


@dataclass
class SaksnummerEndring:
    """One entry in a søknad's saksnummer history."""

    typeOppdatering: str
    opprinneligSaksnummer: list[Saksnummer]
    tilSaksnummer: list[Saksnummer]
    tidspunkt: datetime


@dataclass
class Supplering:
    """An answer to a mangelbrev or an ettersending received from the client."""

    referanse: str
    innsendingReferanse: str
    mottatt: datetime
    kommunensSaksnummer: Saksnummer | None
    mangelIDer: list[str]
    ettersending: list[dict[str, str]] = field(default_factory=list)
    besvaresSenere: list[str] = field(default_factory=list)


@dataclass
class Innsending:
    """One submitted søknad and the kommune's handling of it."""

    innsendingReferanse: str
    ftBID: str | None
    soknadstype: str
    tiltakstyper: list[str]
    mottattDato: datetime
    dokumenter: list[MottattDokument]
    tittel: str | None = None
    registrertDato: datetime | None = None
    saksnummer: Saksnummer | None = None
    fordelingssak: bool = False
    relaterteSaksnummer: list[Saksnummer] = field(default_factory=list)
    saksnummerHistorikk: list[SaksnummerEndring] = field(default_factory=list)
    saksbehandler: Kontaktpunkt | None = None
    milepael: str | None = None
    komplett: bool = False
    frist: Frist = field(default_factory=Frist)
    mangler: list[Mangel] = field(default_factory=list)
    vedtak: Vedtak | None = None
    utgaaendeDokumenter: list[UtgaaendeDokument] = field(default_factory=list)
    # A follow-up's case, found by its kommunensSaksnummer: journalført on that saksnummer.
    sammeSakSom: str | None = None

    @property
    def journalfort(self) -> bool:
        """True once the kvittering has been issued."""
        return self.registrertDato is not None

    def open_mangler(self) -> list[Mangel]:
        """Mangler not yet answered by a supplering."""
        return [m for m in self.mangler if m.besvart is None]

    def utfallspunkter(self) -> list[Utfallspunkt]:
        """Every outcome a søker may answer: the mangler, then the vedtak's vilkår and
        oppfølgingspunkter."""
        punkter: list[Utfallspunkt] = list(self.mangler)
        if self.vedtak is not None:
            punkter += self.vedtak.punkter
        return punkter

    def awaited_mangler(self, godtar_besvares_senere: bool) -> list[Mangel]:
        """Open mangler the kommune waits for before the søknad is complete."""
        return [
            m
            for m in self.open_mangler()
            if not (godtar_besvares_senere and m.besvaresSenere is not None)
        ]


@dataclass
class Sak:
    """Everything the kommune knows in one run: innsendinger, suppleringer, counters."""

    kommunenummer: str
    kommunenavn: str
    fraEbyggesaksystem: str
    innsendinger: list[Innsending] = field(default_factory=list)
    suppleringer: list[Supplering] = field(default_factory=list)
    neste_sakssekvensnummer: int = 100
    fordelingssak_sekvensnummer: int = 17
    neste_journalpostnummer: int = 1
    # The scenario's kommune lets a mangel declared answered later count toward completeness.
    godtar_besvares_senere: bool = False

    def innsending(self, referanse: str) -> Innsending | None:
        """Return the innsending with this reference, or None."""
        for innsending in self.innsendinger:
            if innsending.innsendingReferanse == referanse:
                return innsending
        return None

    def references(self) -> set[str]:
        """Every innsendingReferanse and supplering reference this case knows."""
        refs = {i.innsendingReferanse for i in self.innsendinger}
        return refs | {s.referanse for s in self.suppleringer}

    def on_same_case(self, saksnummer: Saksnummer) -> list[Innsending]:
        """Innsendinger whose current saksnummer is ``saksnummer``."""
        return [i for i in self.innsendinger if saksnummer.same_case(i.saksnummer)]

    def case_of(self, innsending: Innsending) -> list[Innsending]:
        """``innsending`` and every other innsending on its current saksnummer."""
        if innsending.saksnummer is None:
            return [innsending]
        others = [i for i in self.on_same_case(innsending.saksnummer) if i is not innsending]
        return [innsending, *others]

    def utfallspunkter(self, innsending: Innsending) -> dict[str, Utfallspunkt]:
        """Every outcome issued on ``innsending``'s case, by utfallId (its own first)."""
        found: dict[str, Utfallspunkt] = {}
        for member in self.case_of(innsending):
            for punkt in member.utfallspunkter():
                if punkt.utfallId:
                    found.setdefault(punkt.utfallId, punkt)
        return found
