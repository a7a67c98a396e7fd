"""Mangler: the mangelbrev the kommune sends, and the supplering that answers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from app.domain import answers, codes
from app.domain.answers import UtfallSvar
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
    """The kommune receives a supplering: answers to outcomes and/or ettersendinger.

    ``svar`` answers outcomes by utfallId (a mangel's is its mangelID; a vilkår or
    oppfølgingspunkt of a vedtak on the same case may be answered too), each answered now
    or declared answered later (``erUtfallBesvaresSenere``), which leaves it open. The
    søknad becomes complete when this supplering leaves no awaited mangel
    (:meth:`Innsending.awaited_mangler`) where there was one; then ``completes`` says so,
    for the journal and the scenario triggers.
    """

    kind: ClassVar[str] = "supplering"
    referanse: str = ""
    kommunensSaksnummer: Saksnummer | None = None
    svar: list[UtfallSvar] = field(default_factory=list)
    ettersending: list[dict[str, str]] = field(default_factory=list)
    advarsler: list[str] = field(default_factory=list)
    completes: bool = False

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Close the answered outcomes; a søknad with no mangel left awaited becomes complete."""
        innsending = target(sak, self.innsendingReferanse)
        issued = sak.utfallspunkter(innsending)
        problems = answers.unknown_ids(issued, self.svar, innsending.innsendingReferanse)
        given = self.kommunensSaksnummer
        if (
            given is not None
            and innsending.saksnummer
            and not answers.had_number(innsending, given)
        ):
            problems.append(
                Problem(
                    "supplering.kommunensSaksnummer.ukjent",
                    "kommunensSaksnummer",
                    f"Saken til {innsending.innsendingReferanse} har aldri hatt saksnummer "
                    f"{given.label}.",
                )
            )
        if problems:
            raise ValidationFailed(problems[0].message, problems)
        current = innsending.saksnummer
        if self.svar and current and not current.same_case(given):
            got = given.label if given else "ingen"
            self.advarsler.append(
                f"kommunensSaksnummer {got} er ikke sakens gjeldende saksnummer {current.label}."
            )
        awaited = bool(innsending.awaited_mangler(sak.godtar_besvares_senere))
        for svar in answers.first_answers(self.svar, self.advarsler):
            answers.take(issued[svar.utfallId], svar, ctx.now, self.advarsler)
        sak.suppleringer.append(
            Supplering(
                referanse=self.referanse,
                innsendingReferanse=innsending.innsendingReferanse,
                mottatt=ctx.now,
                kommunensSaksnummer=given,
                mangelIDer=[s.utfallId for s in self.svar],
                ettersending=list(self.ettersending),
                besvaresSenere=[s.utfallId for s in self.svar if s.later],
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
