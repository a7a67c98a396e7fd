"""The kommune working the case: caseworker, frist, søknadstype, completeness and letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from app.domain import codes
from app.domain.case import Kontaktpunkt, Sak
from app.domain.events.base import Event, EventContext, complete, conflict, new_oppdatering, target
from app.domain.messages import Melding
from app.errors import Problem, ValidationFailed


@dataclass
class TildelSaksbehandler(Event):
    """Assign or change the caseworker (sent later as nøkkelinfo)."""

    kind: ClassVar[str] = "tildel_saksbehandler"
    saksbehandler: Kontaktpunkt | None = None

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Set the caseworker and announce it."""
        innsending = target(sak, self.innsendingReferanse)
        saksbehandler = self.saksbehandler or ctx.new_saksbehandler()
        if saksbehandler == innsending.saksbehandler:
            raise conflict(
                "saksbehandler.uendret",
                "saksbehandler",
                f"{saksbehandler.navn} er allerede saksbehandler.",
            )
        innsending.saksbehandler = saksbehandler
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
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
        innsending = target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None:
            raise conflict(
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
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
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
        innsending = target(sak, self.innsendingReferanse)
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
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
            raise conflict(
                "saksoppdatering.uendret",
                "soknadstype",
                "Verken søknadstype eller tiltakstype endres.",
            )
        oppdatering.melding = list(self.melding)
        return [oppdatering]


@dataclass
class Komplett(Event):
    """The kommune registers the søknad as complete (milepæl KS); the frist starts or resumes."""

    kind: ClassVar[str] = "komplett"

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Mark complete and announce the frist."""
        innsending = target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None or innsending.milepael == "KS":
            raise conflict(
                "komplett.uendret",
                "innsendingReferanse",
                "Søknaden er allerede registrert som komplett eller har vedtak.",
            )
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
        complete(innsending, ctx.now, oppdatering)
        oppdatering.melding = list(self.melding)
        return [oppdatering]


@dataclass
class PubliserDokument(Event):
    """Publish an outgoing letter on the case."""

    kind: ClassVar[str] = "publiser_dokument"
    tittel: str = "Brev fra kommunen"
    tekst: list[str] = field(default_factory=list)
    distribusjonsmetode: list[str] = field(default_factory=lambda: ["fellestjenesterBygg"])

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Publish and announce the letter."""
        innsending = target(sak, self.innsendingReferanse)
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
        oppdatering.utgaaendeDokument.append(
            ctx.publish(innsending, self.tittel, list(self.tekst), list(self.distribusjonsmetode))
        )
        oppdatering.melding = list(self.melding)
        return [oppdatering]
