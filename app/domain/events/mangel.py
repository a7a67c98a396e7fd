"""Mangler: the mangelbrev the kommune sends, and the supplering that answers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from app.domain import codes
from app.domain.case import Mangel, Sak, Saksnummer, Supplering
from app.domain.events.base import Event, EventContext, complete, conflict, new_oppdatering, target
from app.domain.messages import Melding, Utfall
from app.errors import Problem, ValidationFailed

DEFAULT_SVARFRIST = timedelta(weeks=3)


@dataclass
class MangelInput:
    """One deficiency as the kommune writes it."""

    sjekkpunktId: str
    utfall: str
    tittel: str
    beskrivelse: str = ""
    svarfrist: datetime | None = None
    tema: str = codes.DEFAULT_TEMA


@dataclass
class Mangelbrev(Event):
    """Issue a mangelbrev (milepæl MB); MSL pauses the frist, MSI withdraws it."""

    kind: ClassVar[str] = "mangel"
    mangler: list[MangelInput] = field(default_factory=list)
    svarfrist: datetime | None = None

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Record the mangler, adjust the frist and send the letter."""
        innsending = target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None:
            raise conflict(
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
                tema=m.tema,
                sjekkpunktEier=codes.SJEKKPUNKT_EIER,
            )
            for m in self.mangler
        ]
        innsending.mangler.extend(nye)
        innsending.milepael = "MB"
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
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
    """The kommune receives a supplering: mangelbesvarelse and/or ettersending.

    ``mangelIDer`` are the mangler the mangelbesvarelse names, in its order; those also in
    ``besvaresSenere`` are declared answered later (``erUtfallBesvaresSenere``) and stay
    open, the others are answered. The søknad becomes complete when this supplering leaves
    no awaited mangel (:meth:`Innsending.awaited_mangler`) where there was one; then
    ``completes`` says so, for the journal and the scenario triggers.
    """

    kind: ClassVar[str] = "supplering"
    referanse: str = ""
    kommunensSaksnummer: Saksnummer | None = None
    mangelIDer: list[str] = field(default_factory=list)
    ettersending: list[dict[str, str]] = field(default_factory=list)
    besvaresSenere: list[str] = field(default_factory=list)
    advarsler: list[str] = field(default_factory=list)
    completes: bool = False

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Close the answered mangler; a søknad with none left awaited becomes complete."""
        innsending = target(sak, self.innsendingReferanse)
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
        awaited = bool(innsending.awaited_mangler(sak.godtar_besvares_senere))
        for mangel_id in self.mangelIDer:
            self._take(by_id[mangel_id], ctx.now)
        sak.suppleringer.append(
            Supplering(
                referanse=self.referanse,
                innsendingReferanse=innsending.innsendingReferanse,
                mottatt=ctx.now,
                kommunensSaksnummer=self.kommunensSaksnummer,
                mangelIDer=list(self.mangelIDer),
                ettersending=list(self.ettersending),
                besvaresSenere=list(self.besvaresSenere),
            )
        )
        left = innsending.awaited_mangler(sak.godtar_besvares_senere)
        # Only the supplering that ends the wait completes: a redundant one changes nothing.
        self.completes = awaited and not left and innsending.vedtak is None
        if not self.completes:
            return []
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
        complete(innsending, ctx.now, oppdatering)
        later = len(innsending.open_mangler())
        oppdatering.melding = [
            f"Kommunen har mottatt svar på manglene; {later} besvares senere. Søknaden er komplett."
            if later
            else "Kommunen har mottatt svar på alle mangler. Søknaden er komplett."
        ]
        return [oppdatering]

    def _take(self, mangel: Mangel, now: datetime) -> None:
        """Record one named mangel: answered now, or declared answered later."""
        if mangel.besvart is not None:
            self.advarsler.append(f"Mangel-ID '{mangel.mangelID}' var allerede besvart.")
            return
        if mangel.mangelID in self.besvaresSenere:
            mangel.besvaresSenere = mangel.besvaresSenere or now
            return
        mangel.besvart = now
        if now > mangel.svarfrist:
            self.advarsler.append(f"Mangel-ID '{mangel.mangelID}' er besvart etter svarfristen.")
