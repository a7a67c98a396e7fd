"""Kommune events: each changes the case and yields the kvittering or oppdatering DiBK describes.

An event is a small dataclass with ``apply(sak, ctx)``. It checks that the case allows
it (raising :class:`~app.errors.Conflict` or :class:`~app.errors.ValidationFailed`),
changes the case in place and returns the messages the client will see. ``ctx`` is the
engine's side: the run's clock, its seeded identifiers and the document publisher.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from app.domain import codes
from app.domain.case import (
    Innsending,
    Kontaktpunkt,
    Mangel,
    Sak,
    Saksnummer,
    SaksnummerEndring,
    Supplering,
    UtgaaendeDokument,
    Vedtak,
    Vedtakspunkt,
)
from app.domain.messages import Kvittering, Melding, Oppdatering, Utfall, VedtakInfo
from app.errors import Conflict, Problem, ValidationFailed

DEFAULT_SVARFRIST = timedelta(weeks=3)


class EventContext(Protocol):
    """What an event needs from the engine."""

    now: datetime

    def new_id(self) -> str:
        """A fresh identifier (uuid form) from the run's seeded source."""
        ...

    def new_saksbehandler(self) -> Kontaktpunkt:
        """A synthetic caseworker from the run's seeded source."""
        ...

    def publish(
        self, innsending: Innsending, tittel: str, linjer: list[str], metoder: list[str]
    ) -> UtgaaendeDokument:
        """Render a letter as PDF, store it in the dokumentformidler and describe it."""
        ...


def _conflict(rule: str, field_path: str, message: str) -> Conflict:
    return Conflict(message, [Problem(rule, field_path, message)])


def _target(sak: Sak, referanse: str | None, *, journalfort: bool = True) -> Innsending:
    """Resolve the innsending an event is about (the only one when not named)."""
    if referanse is None:
        if len(sak.innsendinger) != 1:
            message = (
                "Du må oppgi innsendingReferanse når saken har "
                f"{len(sak.innsendinger)} innsendinger."
            )
            raise ValidationFailed(
                message, [Problem("hendelse.innsendingReferanse", "innsendingReferanse", message)]
            )
        innsending = sak.innsendinger[0]
    else:
        found = sak.innsending(referanse)
        if found is None:
            message = f"Innsendingen {referanse} finnes ikke i denne kjøringen."
            raise ValidationFailed(
                message,
                [Problem("hendelse.innsendingReferanse.ukjent", "innsendingReferanse", message)],
            )
        innsending = found
    if journalfort and not innsending.journalfort:
        raise _conflict(
            "hendelse.ikke_journalfort",
            "innsendingReferanse",
            f"Innsendingen {innsending.innsendingReferanse} er ikke journalført ennå.",
        )
    return innsending


def _new_saksnummer(sak: Sak, now: datetime) -> Saksnummer:
    sekvens = sak.neste_sakssekvensnummer
    sak.neste_sakssekvensnummer += 1
    return Saksnummer(str(now.year), str(sekvens))


def _journalpost(sak: Sak, saksnummer: Saksnummer) -> Saksnummer:
    nummer = sak.neste_journalpostnummer
    sak.neste_journalpostnummer += 1
    return Saksnummer(saksnummer.saksaar, saksnummer.sakssekvensnummer, str(nummer))


def _oppdatering(hendelse: str, innsendinger: list[Innsending], now: datetime) -> Oppdatering:
    return Oppdatering(
        hendelse=hendelse,
        innsendingReferanser=[i.innsendingReferanse for i in innsendinger],
        ftBIDer=[i.ftBID for i in innsendinger if i.ftBID],
        ekspedertDato=now,
    )


def _complete(innsending: Innsending, now: datetime, oppdatering: Oppdatering) -> None:
    """Register the søknad as complete (KS) and start or resume its frist."""
    innsending.komplett = True
    innsending.milepael = "KS"
    oppdatering.soknadStatus = "KS"
    if innsending.frist.status == "pauset":
        oppdatering.saksbehandlingsfrist = innsending.frist.resume(now)
    elif innsending.frist.status == "ikke_startet":
        uker = codes.FRIST_UKER.get(innsending.soknadstype)
        if uker is not None:
            oppdatering.saksbehandlingsfrist = innsending.frist.start(now, uker)
    oppdatering.fristStatus = innsending.frist.status


@dataclass
class Event(abc.ABC):
    """Base of all kommune events."""

    kind: ClassVar[str]
    innsendingReferanse: str | None = None
    melding: list[str] = field(default_factory=list)

    @abc.abstractmethod
    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Change ``sak`` and return what the client will see."""


@dataclass
class Journalfor(Event):
    """Register the innsending; issues the kvittering (once)."""

    kind: ClassVar[str] = "journalfor"
    saksnummer: Saksnummer | None = None
    fordelingssak: bool = False
    saksbehandler: Kontaktpunkt | None = None
    komplett: bool = True
    sammeSakSom: str | None = None

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Issue the kvittering and, for a complete søknad, start the frist."""
        innsending = _target(sak, self.innsendingReferanse, journalfort=False)
        if innsending.journalfort:
            raise _conflict(
                "kvittering.allerede_sendt",
                "innsendingReferanse",
                f"Kvittering for {innsending.innsendingReferanse} er allerede sendt; "
                "den sendes bare én gang.",
            )
        if self.sammeSakSom is not None:
            other = _target(sak, self.sammeSakSom)
            assert other.saksnummer is not None
            saksnummer = other.saksnummer
        elif self.saksnummer is not None:
            saksnummer = self.saksnummer
        elif self.fordelingssak:
            saksnummer = Saksnummer(str(ctx.now.year), str(sak.fordelingssak_sekvensnummer))
        else:
            saksnummer = _new_saksnummer(sak, ctx.now)
        innsending.saksnummer = _journalpost(sak, saksnummer)
        innsending.fordelingssak = self.fordelingssak
        innsending.registrertDato = ctx.now
        innsending.milepael = "MS"
        innsending.saksbehandler = self.saksbehandler
        if self.komplett:
            innsending.komplett = True
            uker = codes.FRIST_UKER.get(innsending.soknadstype)
            if uker is not None:
                # The statutory frist runs from when the application reached the kommune.
                innsending.frist.start(innsending.mottattDato, uker)
        return [
            Kvittering(
                innsendingReferanse=innsending.innsendingReferanse,
                ftBID=innsending.ftBID,
                ekspedertDato=ctx.now,
                saksnummer=innsending.saksnummer,
                mottattDato=innsending.mottattDato,
                registrertDato=ctx.now,
                mottattDokument=list(innsending.dokumenter),
                saksbehandler=self.saksbehandler,
                saksbehandlingsfrist=innsending.frist.dato,
                melding=list(self.melding),
            )
        ]


@dataclass
class EndreSaksnummer(Event):
    """Change the saksnummer: endring (e.g. fordelingssak → own case), samling or splitting."""

    kind: ClassVar[str] = "endre_saksnummer"
    typeOppdatering: str = "endring"
    innsendingReferanser: list[str] = field(default_factory=list)
    tilSaksnummer: list[Saksnummer] = field(default_factory=list)

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Move the affected innsendinger and announce old and new numbers."""
        if self.innsendingReferanser:
            berorte = [_target(sak, ref) for ref in self.innsendingReferanser]
        elif self.typeOppdatering == "samling":
            berorte = [i for i in sak.innsendinger if i.journalfort]
        else:
            berorte = [_target(sak, self.innsendingReferanse)]
        opprinnelig: list[Saksnummer] = []
        for innsending in berorte:
            assert innsending.saksnummer is not None
            current = Saksnummer(
                innsending.saksnummer.saksaar, innsending.saksnummer.sakssekvensnummer
            )
            if not any(current.same_case(o) for o in opprinnelig):
                opprinnelig.append(current)
        # Everything already on an original case moves with it.
        for original in opprinnelig:
            for innsending in sak.on_same_case(original):
                if innsending not in berorte:
                    berorte.append(innsending)
        wanted_til = {"endring": 1, "samling": 1, "splitting": 2}[self.typeOppdatering]
        til = list(self.tilSaksnummer) or [_new_saksnummer(sak, ctx.now) for _ in range(wanted_til)]
        self._check_cardinality(opprinnelig, til)
        endring = SaksnummerEndring(self.typeOppdatering, opprinnelig, til, ctx.now)
        for innsending in berorte:
            innsending.saksnummer = _journalpost(sak, til[0])
            innsending.fordelingssak = False
            innsending.relaterteSaksnummer = list(til[1:])
            innsending.saksnummerHistorikk.append(endring)
        oppdatering = _oppdatering(self.kind, berorte, ctx.now)
        oppdatering.saksnummer = berorte[0].saksnummer
        oppdatering.endringAvSaksnummer = endring
        oppdatering.melding = list(self.melding)
        return [oppdatering]

    def _check_cardinality(self, opprinnelig: list[Saksnummer], til: list[Saksnummer]) -> None:
        """Apply DiBK's cardinality rules for opprinneligSaksnummer and tilSaksnummer."""
        rules = {
            "endring": (len(opprinnelig) == 1, len(til) == 1),
            "samling": (len(opprinnelig) >= 2, len(til) == 1),
            "splitting": (len(opprinnelig) == 1, len(til) >= 2),
        }
        ok_fra, ok_til = rules[self.typeOppdatering]
        problems = []
        if not ok_fra:
            problems.append(
                Problem(
                    "endretSaksnummer.opprinneligSaksnummer.antall",
                    "opprinneligSaksnummer",
                    f"'{self.typeOppdatering}' krever "
                    + ("minst to" if self.typeOppdatering == "samling" else "nøyaktig ett")
                    + f" opprinnelig saksnummer; fant {len(opprinnelig)}.",
                )
            )
        if not ok_til:
            problems.append(
                Problem(
                    "endretSaksnummer.tilSaksnummer.antall",
                    "tilSaksnummer",
                    f"'{self.typeOppdatering}' krever "
                    + ("minst to" if self.typeOppdatering == "splitting" else "nøyaktig ett")
                    + f" nytt saksnummer; fant {len(til)}.",
                )
            )
        if any(o.same_case(t) for o in opprinnelig for t in til) and self.typeOppdatering != (
            "samling"
        ):
            problems.append(
                Problem(
                    "endretSaksnummer.uendret",
                    "tilSaksnummer",
                    "Nytt saksnummer er det samme som det opprinnelige.",
                )
            )
        if problems:
            raise ValidationFailed(problems[0].message, problems)


@dataclass
class TildelSaksbehandler(Event):
    """Assign or change the caseworker (sent later as nøkkelinfo)."""

    kind: ClassVar[str] = "tildel_saksbehandler"
    saksbehandler: Kontaktpunkt | None = None

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Set the caseworker and announce it."""
        innsending = _target(sak, self.innsendingReferanse)
        saksbehandler = self.saksbehandler or ctx.new_saksbehandler()
        if saksbehandler == innsending.saksbehandler:
            raise _conflict(
                "saksbehandler.uendret",
                "saksbehandler",
                f"{saksbehandler.navn} er allerede saksbehandler.",
            )
        innsending.saksbehandler = saksbehandler
        oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
        oppdatering.saksbehandler = saksbehandler
        oppdatering.melding = list(self.melding)
        return [oppdatering]


@dataclass
class SettFrist(Event):
    """Set the saksbehandlingsfrist to a date, or start it for a number of weeks."""

    kind: ClassVar[str] = "sett_frist"
    dato: datetime | None = None
    uker: int | None = None

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Change the frist and announce the new date."""
        innsending = _target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None:
            raise _conflict(
                "frist.etter_vedtak", "dato", "Saken har vedtak; fristen kan ikke endres."
            )
        if self.dato is not None:
            if self.dato <= ctx.now:
                message = "'Saksbehandlingsfrist' må være etter dagens dato."
                raise ValidationFailed(message, [Problem("frist.dato.passert", "dato", message)])
            dato = innsending.frist.set(self.dato)
        else:
            uker = self.uker or codes.FRIST_UKER.get(innsending.soknadstype, 12)
            dato = innsending.frist.start(ctx.now, uker)
        oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
        oppdatering.saksbehandlingsfrist = dato
        oppdatering.fristStatus = innsending.frist.status
        oppdatering.melding = list(self.melding)
        return [oppdatering]


@dataclass
class EndreSoknadstype(Event):
    """Change søknadstype and/or tiltakstyper (saksoppdatering)."""

    kind: ClassVar[str] = "endre_soknadstype"
    soknadstype: str | None = None
    tiltakstyper: list[str] | None = None

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Apply the change; a søknadstype change always comes with a letter."""
        innsending = _target(sak, self.innsendingReferanse)
        oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
        if self.soknadstype is not None and self.soknadstype != innsending.soknadstype:
            gammel = innsending.soknadstype
            innsending.soknadstype = self.soknadstype
            oppdatering.soknadstype = self.soknadstype
            oppdatering.utgaaendeDokument.append(
                ctx.publish(
                    innsending,
                    "Endring av søknadstype",
                    [
                        f"Kommunen behandler søknaden som {codes.SOKNADSTYPE[self.soknadstype]}",
                        f"(tidligere {codes.SOKNADSTYPE[gammel]}).",
                    ],
                    ["fellestjenesterBygg", "svarUt"],
                )
            )
        if self.tiltakstyper is not None and self.tiltakstyper != innsending.tiltakstyper:
            innsending.tiltakstyper = list(self.tiltakstyper)
            oppdatering.tiltakstyper = list(self.tiltakstyper)
        if oppdatering.soknadstype is None and oppdatering.tiltakstyper is None:
            raise _conflict(
                "saksoppdatering.uendret",
                "soknadstype",
                "Verken søknadstype eller tiltakstype endres.",
            )
        oppdatering.melding = list(self.melding)
        return [oppdatering]


@dataclass
class MangelInput:
    """One deficiency as the kommune writes it."""

    sjekkpunktId: str
    utfall: str
    tittel: str
    beskrivelse: str = ""
    svarfrist: datetime | None = None


@dataclass
class Mangelbrev(Event):
    """Issue a mangelbrev (milepæl MB); MSL pauses the frist, MSI withdraws it."""

    kind: ClassVar[str] = "mangel"
    mangler: list[MangelInput] = field(default_factory=list)
    svarfrist: datetime | None = None

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Record the mangler, adjust the frist and send the letter."""
        innsending = _target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None:
            raise _conflict(
                "mangel.etter_vedtak", "mangler", "Saken har vedtak; mangelbrev kan ikke sendes."
            )
        svarfrist = self.svarfrist or ctx.now + DEFAULT_SVARFRIST
        nye = [
            Mangel(
                mangelID=ctx.new_id(),
                sjekkpunktId=m.sjekkpunktId,
                utfall=m.utfall,
                tittel=m.tittel,
                beskrivelse=m.beskrivelse,
                svarfrist=m.svarfrist or svarfrist,
                prosesskategori=innsending.soknadstype,
            )
            for m in self.mangler
        ]
        innsending.mangler.extend(nye)
        innsending.milepael = "MB"
        oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
        oppdatering.soknadStatus = "MB"
        utfall = {m.utfall for m in nye}
        if "MSI" in utfall:
            innsending.komplett = False
            innsending.frist.withdraw()
        elif "MSL" in utfall:
            innsending.frist.pause(ctx.now)
        oppdatering.fristStatus = innsending.frist.status
        oppdatering.utfall = [Utfall.from_mangel(m) for m in nye]
        linjer = [f"Svarfrist: {svarfrist:%d.%m.%Y}.", ""] + [
            f"{m.sjekkpunktId} {m.tittel} ({codes.UTFALL[m.utfall]}). Mangel-ID {m.mangelID}."
            for m in nye
        ]
        oppdatering.utgaaendeDokument.append(
            ctx.publish(
                innsending,
                "Anmodning om tilleggsopplysninger",
                linjer,
                ["fellestjenesterBygg", "svarUt"],
            )
        )
        oppdatering.melding = list(self.melding)
        return [oppdatering]


@dataclass
class MottaSupplering(Event):
    """The kommune receives a supplering: mangelbesvarelse and/or ettersending."""

    kind: ClassVar[str] = "supplering"
    referanse: str = ""
    kommunensSaksnummer: Saksnummer | None = None
    mangelIDer: list[str] = field(default_factory=list)
    ettersending: list[dict[str, str]] = field(default_factory=list)
    advarsler: list[str] = field(default_factory=list)

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Close the answered mangler; a søknad with none left open becomes complete."""
        innsending = _target(sak, self.innsendingReferanse)
        by_id = {m.mangelID: m for m in innsending.mangler}
        problems = [
            Problem(
                "supplering.mangelID.ukjent",
                f"mangelbesvarelse[{index}].mangelID",
                f"Mangel-ID '{mangel_id}' finnes ikke i saken til "
                f"{innsending.innsendingReferanse}.",
            )
            for index, mangel_id in enumerate(self.mangelIDer)
            if mangel_id not in by_id
        ]
        if problems:
            raise ValidationFailed(problems[0].message, problems)
        current = innsending.saksnummer
        if self.mangelIDer and current and not current.same_case(self.kommunensSaksnummer):
            got = self.kommunensSaksnummer.label if self.kommunensSaksnummer else "ingen"
            self.advarsler.append(
                f"kommunensSaksnummer {got} er ikke sakens gjeldende saksnummer {current.label}."
            )
        for mangel_id in self.mangelIDer:
            mangel = by_id[mangel_id]
            if mangel.besvart is not None:
                self.advarsler.append(f"Mangel-ID '{mangel_id}' var allerede besvart.")
                continue
            mangel.besvart = ctx.now
            if ctx.now > mangel.svarfrist:
                self.advarsler.append(f"Mangel-ID '{mangel_id}' er besvart etter svarfristen.")
        sak.suppleringer.append(
            Supplering(
                referanse=self.referanse,
                innsendingReferanse=innsending.innsendingReferanse,
                mottatt=ctx.now,
                kommunensSaksnummer=self.kommunensSaksnummer,
                mangelIDer=list(self.mangelIDer),
                ettersending=list(self.ettersending),
            )
        )
        if self.mangelIDer and innsending.vedtak is None and not innsending.open_mangler():
            oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
            _complete(innsending, ctx.now, oppdatering)
            oppdatering.melding = [
                "Kommunen har mottatt svar på alle mangler. Søknaden er komplett."
            ]
            return [oppdatering]
        return []


@dataclass
class Komplett(Event):
    """The kommune registers the søknad as complete (milepæl KS); the frist starts or resumes."""

    kind: ClassVar[str] = "komplett"

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Mark complete and announce the frist."""
        innsending = _target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None or innsending.milepael == "KS":
            raise _conflict(
                "komplett.uendret",
                "innsendingReferanse",
                "Søknaden er allerede registrert som komplett eller har vedtak.",
            )
        oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
        _complete(innsending, ctx.now, oppdatering)
        oppdatering.melding = list(self.melding)
        return [oppdatering]


@dataclass
class VedtakspunktInput:
    """A vilkår or oppfølgingspunkt as the kommune writes it."""

    sjekkpunktId: str
    tittel: str
    beskrivelse: str = ""


@dataclass
class FattVedtak(Event):
    """Decide (milepæl VF): innvilget with vilkår/oppfølgingspunkt, avslag or avvisning."""

    kind: ClassVar[str] = "vedtak"
    resultat: str = "innvilget"
    vilkaar: list[VedtakspunktInput] = field(default_factory=list)
    oppfolgingspunkter: list[VedtakspunktInput] = field(default_factory=list)

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Record the vedtak, stop the frist and send the decision letter."""
        innsending = _target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None:
            raise _conflict(
                "vedtak.allerede_fattet",
                "resultat",
                f"Det er allerede fattet vedtak for {innsending.innsendingReferanse}.",
            )
        punkter = [
            Vedtakspunkt(p.sjekkpunktId, code, p.tittel, p.beskrivelse, innsending.soknadstype)
            for code, items in (
                (codes.VILKAAR_UTFALL, self.vilkaar),
                (codes.OPPFOLGING_UTFALL, self.oppfolgingspunkter),
            )
            for p in items
        ]
        innsending.milepael = "VF"
        innsending.frist.stop()
        oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
        oppdatering.soknadStatus = "VF"
        oppdatering.fristStatus = "stoppet"
        vedtak_kode = codes.VEDTAK_RESULTAT[self.resultat]
        oppdatering.utfall = [
            Utfall(
                sjekkpunktId="",
                utfall=vedtak_kode,
                tittel=codes.UTFALL[vedtak_kode],
                beskrivelse=f"Søknaden er {self._resultat_tekst()}.",
                prosesskategori=innsending.soknadstype,
            )
        ] + [Utfall.from_vedtakspunkt(p) for p in punkter]
        linjer = [f"Søknaden er {self._resultat_tekst()}.", ""]
        linjer += [f"Vilkår {p.sjekkpunktId}: {p.tittel}" for p in punkter if p.utfall == "SVV"]
        linjer += [
            f"Oppfølgingspunkt {p.sjekkpunktId}: {p.tittel}" for p in punkter if p.utfall == "MKV"
        ]
        dokument = ctx.publish(
            innsending,
            f"Vedtak - {codes.SOKNADSTYPE[innsending.soknadstype]}",
            linjer,
            ["fellestjenesterBygg", "svarUt"],
        )
        oppdatering.utgaaendeDokument.append(dokument)
        innsending.vedtak = Vedtak(self.resultat, ctx.now, punkter, dokument.dokumentId)
        oppdatering.vedtak = VedtakInfo(self.resultat, ctx.now)
        oppdatering.melding = list(self.melding)
        return [oppdatering]

    def _resultat_tekst(self) -> str:
        return {"innvilget": "innvilget", "avslag": "avslått", "avvisning": "avvist"}[self.resultat]


@dataclass
class PubliserDokument(Event):
    """Publish an outgoing letter on the case."""

    kind: ClassVar[str] = "publiser_dokument"
    tittel: str = "Brev fra kommunen"
    tekst: list[str] = field(default_factory=list)
    distribusjonsmetode: list[str] = field(default_factory=lambda: ["fellestjenesterBygg"])

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Publish and announce the letter."""
        innsending = _target(sak, self.innsendingReferanse)
        oppdatering = _oppdatering(self.kind, [innsending], ctx.now)
        oppdatering.utgaaendeDokument.append(
            ctx.publish(innsending, self.tittel, list(self.tekst), list(self.distribusjonsmetode))
        )
        oppdatering.melding = list(self.melding)
        return [oppdatering]


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        Journalfor,
        EndreSaksnummer,
        TildelSaksbehandler,
        SettFrist,
        EndreSoknadstype,
        Mangelbrev,
        MottaSupplering,
        Komplett,
        FattVedtak,
        PubliserDokument,
    )
}
