"""Protocol checks on how the client answers outcomes and follows up a case.

Every mangel, vilkår and oppfølgingspunkt the kommune issued is answered by its ``utfallId``
(in a Supplering av søknad v2 or a follow-up søknad), and a follow-up søknad (IG, MB, FA)
carries the case's current ``kommunensSaksnummer``. Both read canonical bodies, so the JSON
and DiBK's XML of one answer score the same.
"""

from __future__ import annotations

from typing import Any

from app.domain.answers import FOLLOW_UPS
from app.domain.case import Utfallspunkt
from app.domain.codes import utfall_type
from app.scenarios.model import Expectation
from app.scoring.content_checks import ANSWERED, LATER, answers_in, outcome, reading
from app.scoring.evidence import Exchange, Facts
from app.scoring.outcome import Outcome

ANSWERING = ("/api/v1/supplering", "/api/v1/innsending")


def _answering(facts: Facts) -> list[Exchange]:
    """The client's suppleringer and søknader whose body loaded, accepted or not."""
    return [
        e
        for e in facts.exchanges
        if e.method == "POST"
        and e.path in ANSWERING
        and isinstance(e.body, dict)
        and e.replay_of is None
    ]


def _issued(facts: Facts) -> list[Utfallspunkt]:
    """Every outcome the kommune issued for the søker to answer (MG, SVV, MKV)."""
    return [
        p
        for i in facts.sak.innsendinger
        for p in i.utfallspunkter()
        if p.utfallId and utfall_type(p.utfall) is not None
    ]


def answers_every_utfall(facts: Facts, _expectation: Expectation) -> Outcome:
    """Every MG, SVV and MKV outcome is answered by its utfallId; "answered later" is not yet."""
    issued = _issued(facts)
    if not issued:
        return outcome(None, "the kommune issued no mangel, vilkår or oppfølgingspunkt")
    known = {p.utfallId for p in issued}
    answered: dict[str, Exchange] = {}
    later: dict[str, Exchange] = {}
    sent: list[Exchange] = []
    for exchange in _answering(facts):
        for svar in answers_in(exchange.body):
            sent.append(exchange)
            if svar["utfallId"] not in known:
                return outcome(
                    False,
                    f"sent unknown utfallId {svar['utfallId']}",
                    f"expected one of the kommune's utfallIds; got '{svar['utfallId']}' "
                    f"in exchange {exchange.id}",
                    [exchange.id],
                )
            if exchange.status != 201:
                continue
            read = reading(svar)
            if read == ANSWERED:
                answered.setdefault(svar["utfallId"], exchange)
            elif read == LATER:
                later.setdefault(svar["utfallId"], exchange)
    for punkt in issued:
        if punkt.utfallId in answered:
            continue
        what = f"{utfall_type(punkt.utfall)} {punkt.utfallId} ({punkt.tittel})"
        if punkt.utfallId in later:
            exchange = later[punkt.utfallId]
            return outcome(
                False,
                f"{what} was declared answered later and never answered",
                f"expected an utfallSvar with erUtfallBesvart for {punkt.utfallId}; exchange "
                f"{exchange.id} only said erUtfallBesvaresSenere",
                [exchange.id],
            )
        return outcome(
            False,
            f"{what} was never answered",
            f"expected an utfallSvar with utfallId {punkt.utfallId}; none came",
            sorted({e.id for e in sent})[:3],
        )
    return outcome(
        True,
        f"all {len(issued)} outcomes answered by their utfallId",
        None,
        sorted({e.id for e in answered.values()}),
    )


def _label(saksnummer: Any) -> str:
    if not isinstance(saksnummer, dict):
        return "None/None"
    return f"{saksnummer.get('saksaar')}/{saksnummer.get('sakssekvensnummer')}"


def _follow_ups(facts: Facts) -> list[Exchange]:
    """The søknader sent on an existing case: every IG, MB or FA, and an ET or RS that the
    sandbox placed on the case its kommunensSaksnummer named."""
    out = []
    for e in _answering(facts):
        if e.path != "/api/v1/innsending" or e.status != 201:
            continue
        if e.body.get("soknadstype") in FOLLOW_UPS:
            out.append(e)
            continue
        response = e.response_body if isinstance(e.response_body, dict) else {}
        made = facts.sak.innsending(str(response.get("innsendingReferanse", "")))
        if made is not None and made.sammeSakSom is not None:
            out.append(e)
    return out


def follow_up_uses_current_saksnummer(facts: Facts, _expectation: Expectation) -> Outcome:
    """A follow-up søknad names its case by the saksnummer the case had when it was sent
    (or, in JSON, by the ``innsendingReferanse`` of its case alone)."""
    checked: list[Exchange] = []
    for exchange in _follow_ups(facts):
        response = exchange.response_body if isinstance(exchange.response_body, dict) else {}
        innsending = facts.sak.innsending(str(response.get("innsendingReferanse", "")))
        case_ref = innsending.sammeSakSom if innsending is not None else None
        got = exchange.body.get("kommunensSaksnummer")
        if got is None and exchange.body.get("innsendingReferanse"):
            checked.append(exchange)  # named by reference (JSON): no number to be stale
            continue
        if got is None:
            return outcome(
                False,
                f"follow-up {exchange.id} ({exchange.body['soknadstype']}) carried no "
                "kommunensSaksnummer",
                "expected the case's kommunensSaksnummer in the follow-up søknad; got none",
                [exchange.id],
            )
        current = facts.saksnummer_at(case_ref, exchange.virtual_time) if case_ref else None
        checked.append(exchange)
        if current is not None and _label(got) != current.label:
            return outcome(
                False,
                f"follow-up {exchange.id} used saksnummer {_label(got)}",
                f"expected kommunensSaksnummer {current.label}, got {_label(got)}",
                [exchange.id],
            )
    if not checked:
        return outcome(None, "the client sent no follow-up søknad")
    return outcome(
        True,
        f"all {len(checked)} follow-ups used the current saksnummer",
        None,
        [e.id for e in checked],
    )
