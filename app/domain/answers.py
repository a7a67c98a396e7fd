"""The søker's answers to the kommune's outcomes (``utfallSvar``), and how a form finds its case.

Supplering av søknad v2 and the follow-up søknader (IG, MB, FA) answer each mangel, vilkår or
oppfølgingspunkt by its ``utfallId``, with ``erUtfallBesvart`` / ``erUtfallBesvaresSenere``.
Only an id the kommune never issued on the case is refused; content that differs from the
kommune's record (an echoed title, sjekkpunkt, tema or utfallType) is taken with an advarsel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain import codelists, codes
from app.domain.case import Innsending, Mangel, Sak, Saksnummer, Utfallspunkt
from app.errors import Problem, ValidationFailed

# The søknader that follow up an existing case; ET and RS may start a new one.
FOLLOW_UPS = ("IG", "MB", "FA")


@dataclass
class UtfallSvar:
    """One answer to an outcome, as the søker sent it (the echoed fields may be absent)."""

    utfallId: str
    felt: str = ""  # where the id stands in the body, for the problem that names it
    erUtfallBesvart: bool | None = None
    erUtfallBesvaresSenere: bool | None = None
    utfallType: str | None = None
    tema: str | None = None
    tittel: str | None = None
    sjekkpunktId: str | None = None
    sjekkpunktEier: str | None = None
    kommentar: str | None = None
    vedleggstyper: list[str] = field(default_factory=list)
    vedlegg: int = 0  # how many vedlegg it names

    @property
    def later(self) -> bool:
        """Declared answered later, and not answered now.

        Sandbox assumption: an utfallSvar with neither flag set answers the outcome (DiBK's
        test data has one such, with a comment and attachments); both flags set answer it too.
        """
        return bool(self.erUtfallBesvaresSenere) and not self.erUtfallBesvart

    @property
    def empty(self) -> bool:
        """Says the outcome is not answered (``erUtfallBesvart`` false), nor answered later,
        and gives neither a comment nor a vedlegg: not an answer, so the outcome stays open.

        Sandbox assumption: a client that echoes an id it cannot handle this way has not
        answered it; absent flags (``{utfallId}`` alone, the older bodies) still answer.
        """
        return (
            self.erUtfallBesvart is False
            and not self.erUtfallBesvaresSenere
            and not (self.kommentar or "").strip()
            and not self.vedlegg
        )


def known_numbers(innsending: Innsending) -> list[Saksnummer]:
    """Every saksnummer the innsending has had: the current one first, then its history."""
    numbers = [innsending.saksnummer] if innsending.saksnummer is not None else []
    for endring in innsending.saksnummerHistorikk:
        numbers += endring.opprinneligSaksnummer + endring.tilSaksnummer
    return numbers


def had_number(innsending: Innsending, saksnummer: Saksnummer) -> bool:
    """True when ``saksnummer`` is one the innsending has had, now or before."""
    return any(n.same_case(saksnummer) for n in known_numbers(innsending))


def find_case(sak: Sak, saksnummer: Saksnummer, utfall_ids: list[str]) -> Innsending | None:
    """The innsending a form names by ``kommunensSaksnummer`` (any number the case has had).

    Of several on that case, the one that issued the first answered outcome; else the first.
    """
    found = [i for i in sak.innsendinger if had_number(i, saksnummer)]
    for utfall_id in utfall_ids:
        for innsending in found:
            if any(p.utfallId == utfall_id for p in innsending.utfallspunkter()):
                return innsending
    return found[0] if found else None


def unknown_ids(
    issued: dict[str, Utfallspunkt], svar: list[UtfallSvar], case: str, form: str = "supplering"
) -> list[Problem]:
    """One problem per answer whose utfallId the kommune never issued on the case."""
    return [
        # The older mangelbesvarelse body keeps its own rule and wording.
        Problem(
            "supplering.mangelID.ukjent",
            s.felt,
            f"Mangel-ID '{s.utfallId}' finnes ikke i saken til {case}.",
        )
        if s.felt.startswith("mangelbesvarelse")
        else Problem(
            f"{form}.utfallId.ukjent",
            s.felt,
            f"utfallId '{s.utfallId}' finnes ikke i saken til {case}: kommunen har ikke sendt "
            "et slikt utfall.",
        )
        for s in svar
        if s.utfallId not in issued
    ]


def follow_up(
    sak: Sak,
    innsending: Innsending,
    saksnummer: Saksnummer | None,
    svar: list[UtfallSvar],
    now: datetime,
    named: str | None = None,
) -> list[str]:
    """Place a søknad on the case its ``kommunensSaksnummer`` (or, in JSON, the
    ``innsendingReferanse`` ``named``) names and take its answers.

    A follow-up (IG, MB, FA) or any answer naming a saksnummer the run's cases never had is
    a 400, and so is a named reference the run never gave; an ET or RS with an unknown
    saksnummer is a new søknad, with an advarsel. An old saksnummer of the case is accepted
    with an advarsel (the current-saksnummer check scores it).
    """
    if named is not None:
        return _follow_up_named(sak, innsending, named, saksnummer, svar, now)
    if saksnummer is None:
        return []
    found = find_case(sak, saksnummer, [s.utfallId for s in svar])
    if found is None:
        if innsending.soknadstype in FOLLOW_UPS or svar:
            raise _unknown_saksnummer(saksnummer)
        return [
            f"kommunensSaksnummer {saksnummer.label} er ukjent; søknaden er registrert som en "
            "ny søknad."
        ]
    return _on_case(sak, innsending, found, saksnummer, svar, now)


def _follow_up_named(
    sak: Sak,
    innsending: Innsending,
    named: str,
    saksnummer: Saksnummer | None,
    svar: list[UtfallSvar],
    now: datetime,
) -> list[str]:
    found = sak.innsending(named)
    if found is None:
        message = f"innsendingReferanse '{named}' finnes ikke i denne kjøringen."
        problem = Problem("innsending.innsendingReferanse.ukjent", "innsendingReferanse", message)
        raise ValidationFailed(message, [problem])
    while found.sammeSakSom is not None:  # a follow-up named: its case's first søknad
        first = sak.innsending(found.sammeSakSom)
        if first is None:
            break
        found = first
    advarsler: list[str] = []
    if saksnummer is not None and not any(had_number(i, saksnummer) for i in sak.case_of(found)):
        if not any(had_number(i, saksnummer) for i in sak.innsendinger):
            raise _unknown_saksnummer(saksnummer)
        advarsler.append(
            f"kommunensSaksnummer {saksnummer.label} er ikke saksnummeret til {named}; "
            f"søknaden er lagt på saken til {named}."
        )
        saksnummer = None
    return advarsler + _on_case(sak, innsending, found, saksnummer, svar, now)


def _unknown_saksnummer(saksnummer: Saksnummer) -> ValidationFailed:
    message = f"Ingen sak i denne kjøringen har hatt saksnummer {saksnummer.label}."
    problem = Problem("innsending.kommunensSaksnummer.ukjent", "kommunensSaksnummer", message)
    return ValidationFailed(message, [problem])


def _on_case(
    sak: Sak,
    innsending: Innsending,
    found: Innsending,
    saksnummer: Saksnummer | None,
    svar: list[UtfallSvar],
    now: datetime,
) -> list[str]:
    innsending.sammeSakSom = found.innsendingReferanse
    issued = sak.utfallspunkter(found)
    problems = unknown_ids(issued, svar, found.innsendingReferanse, "innsending")
    if problems:
        raise ValidationFailed(problems[0].message, problems)
    advarsler: list[str] = []
    current = found.saksnummer
    if saksnummer is not None and current is not None and not current.same_case(saksnummer):
        advarsler.append(
            f"kommunensSaksnummer {saksnummer.label} er ikke sakens gjeldende saksnummer "
            f"{current.label}."
        )
    for one in first_answers(svar, advarsler):
        take(issued[one.utfallId], one, now, advarsler)
    return advarsler


def first_answers(svar: list[UtfallSvar], advarsler: list[str]) -> list[UtfallSvar]:
    """The answers, each utfallId once: a repeat in the same form is read as not sent, with
    an advarsel (DiBK's IG example repeats one; the sandbox reads the first)."""
    seen: set[str] = set()
    out: list[UtfallSvar] = []
    for one in svar:
        if one.utfallId in seen:
            advarsler.append(
                f"utfallId '{one.utfallId}' står flere ganger i skjemaet; sandkassen leser "
                "det første utfallSvar."
            )
            continue
        seen.add(one.utfallId)
        out.append(one)
    return out


def differences(punkt: Utfallspunkt, svar: UtfallSvar) -> list[str]:
    """Advarsler for every echoed field that differs from the kommune's record of the outcome."""
    out: list[str] = []
    wanted_type = codes.utfall_type(punkt.utfall)
    echoed = (
        ("utfallType", svar.utfallType, wanted_type),
        ("tema", svar.tema, punkt.tema),
        ("tittel", _plain(svar.tittel), _plain(punkt.tittel)),
        ("sjekkpunktId", svar.sjekkpunktId, punkt.sjekkpunktId),
        ("sjekkpunktEier", svar.sjekkpunktEier, punkt.sjekkpunktEier),
    )
    for name, got, wanted in echoed:
        if got is not None and got != "" and not _same(name, got, wanted):
            out.append(f"utfallId '{svar.utfallId}': {name} '{got}' er ikke kommunens '{wanted}'.")
    for vedleggstype in svar.vedleggstyper:
        if vedleggstype not in codelists.VEDLEGGSTYPE.koder:
            out.append(
                f"utfallId '{svar.utfallId}': vedleggstype '{vedleggstype}' er ikke i "
                "sandkassens kodeliste."
            )
    if svar.erUtfallBesvart and svar.erUtfallBesvaresSenere:
        out.append(
            f"utfallId '{svar.utfallId}': både erUtfallBesvart og erUtfallBesvaresSenere er "
            "satt; sandkassen leser det som besvart."
        )
    return out


def _same(name: str, got: str, wanted: str | None) -> bool:
    """Whether an echoed value is the kommune's; a tema code in either case is (DiBK's own
    forms spell ``Parkering`` and ``Plan`` where the checklist has ``plan``)."""
    if name == "tema" and wanted is not None:
        return got.casefold() == wanted.casefold()
    return got == wanted


def take(punkt: Utfallspunkt, svar: UtfallSvar, now: datetime, advarsler: list[str]) -> None:
    """Record one answer on its outcome: answered now, or declared answered later."""
    advarsler += differences(punkt, svar)
    label = "Mangel-ID" if isinstance(punkt, Mangel) else "Utfall-ID"
    if svar.empty:
        advarsler.append(
            f"{label} '{svar.utfallId}': erUtfallBesvart er false, og svaret har verken "
            "kommentar eller vedlegg; utfallet står åpent."
        )
        return
    if punkt.besvart is not None:
        advarsler.append(f"{label} '{svar.utfallId}' var allerede besvart.")
        return
    if svar.later:
        punkt.besvaresSenere = punkt.besvaresSenere or now
        return
    punkt.besvart = now
    if isinstance(punkt, Mangel) and now > punkt.svarfrist:
        advarsler.append(f"{label} '{svar.utfallId}' er besvart etter svarfristen.")


def _plain(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None
