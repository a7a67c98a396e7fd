"""What every kommune event shares: the base class, the engine's side, and case helpers.

An event is a small dataclass with ``apply(sak, ctx)``. It checks that the case allows
it (raising :class:`~app.errors.Conflict` or :class:`~app.errors.ValidationFailed`),
changes the case in place and returns the messages the client will see. ``ctx`` is the
engine's side: the run's clock, its seeded identifiers and the document publisher. Every
subclass names its ``kind`` (one of :data:`app.vocabulary.EVENT_KINDS`) and is entered
in ``EVENT_TYPES`` as it is defined.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from app.domain import codes
from app.domain.case import Innsending, Kontaktpunkt, Sak, Saksnummer, UtgaaendeDokument
from app.domain.messages import Melding, Oppdatering
from app.errors import Conflict, Problem, ValidationFailed

EVENT_TYPES: dict[str, type[Event]] = {}


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


def conflict(rule: str, field_path: str, message: str) -> Conflict:
    """A 409 with one problem."""
    return Conflict(message, [Problem(rule, field_path, message)])


def target(sak: Sak, referanse: str | None, *, journalfort: bool = True) -> Innsending:
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
        raise conflict(
            "hendelse.ikke_journalfort",
            "innsendingReferanse",
            f"Innsendingen {innsending.innsendingReferanse} er ikke journalført ennå.",
        )
    return innsending


def new_saksnummer(sak: Sak, now: datetime) -> Saksnummer:
    """The kommune's next saksnummer in the year of ``now``."""
    sekvens = sak.neste_sakssekvensnummer
    sak.neste_sakssekvensnummer += 1
    return Saksnummer(str(now.year), str(sekvens))


def journalpost(sak: Sak, saksnummer: Saksnummer) -> Saksnummer:
    """``saksnummer`` with the case's next journalpostnummer."""
    nummer = sak.neste_journalpostnummer
    sak.neste_journalpostnummer += 1
    return Saksnummer(saksnummer.saksaar, saksnummer.sakssekvensnummer, str(nummer))


def new_oppdatering(hendelse: str, innsendinger: list[Innsending], now: datetime) -> Oppdatering:
    """An oppdatering about ``innsendinger``, sent ``now``."""
    return Oppdatering(
        hendelse=hendelse,
        innsendingReferanser=[i.innsendingReferanse for i in innsendinger],
        ftBIDer=[i.ftBID for i in innsendinger if i.ftBID],
        ekspedertDato=now,
    )


def complete(innsending: Innsending, now: datetime, oppdatering: Oppdatering) -> None:
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EVENT_TYPES[cls.kind] = cls

    @abc.abstractmethod
    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Change ``sak`` and return what the client will see."""
