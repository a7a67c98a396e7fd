"""Journalføring and the saksnummer: the kvittering, and endring, samling or splitting of the case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from app.domain import codes
from app.domain.case import Kontaktpunkt, Sak, Saksnummer, SaksnummerEndring
from app.domain.events.base import (
    Event,
    EventContext,
    conflict,
    journalpost,
    new_oppdatering,
    new_saksnummer,
    target,
)
from app.domain.messages import Kvittering, Melding
from app.errors import Problem, ValidationFailed


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
        innsending = target(sak, self.innsendingReferanse, journalfort=False)
        if innsending.journalfort:
            raise conflict(
                "kvittering.allerede_sendt",
                "innsendingReferanse",
                f"Kvittering for {innsending.innsendingReferanse} er allerede sendt; "
                "den sendes bare én gang.",
            )
        # The event's own choice first; else the case a follow-up søknad named itself.
        same = self.sammeSakSom or (None if self.saksnummer else innsending.sammeSakSom)
        if same is not None:
            other = target(sak, same)
            assert other.saksnummer is not None
            saksnummer = other.saksnummer
        elif self.saksnummer is not None:
            saksnummer = self.saksnummer
        elif self.fordelingssak:
            saksnummer = Saksnummer(str(ctx.now.year), str(sak.fordelingssak_sekvensnummer))
        else:
            saksnummer = new_saksnummer(sak, ctx.now)
        innsending.saksnummer = journalpost(sak, saksnummer)
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
            berorte = [target(sak, ref) for ref in self.innsendingReferanser]
        elif self.typeOppdatering == "samling":
            berorte = [i for i in sak.innsendinger if i.journalfort]
        else:
            berorte = [target(sak, self.innsendingReferanse)]
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
        til = list(self.tilSaksnummer) or [new_saksnummer(sak, ctx.now) for _ in range(wanted_til)]
        self._check_cardinality(opprinnelig, til)
        endring = SaksnummerEndring(self.typeOppdatering, opprinnelig, til, ctx.now)
        for innsending in berorte:
            innsending.saksnummer = journalpost(sak, til[0])
            innsending.fordelingssak = False
            innsending.relaterteSaksnummer = list(til[1:])
            innsending.saksnummerHistorikk.append(endring)
        oppdatering = new_oppdatering(self.kind, berorte, ctx.now)
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
