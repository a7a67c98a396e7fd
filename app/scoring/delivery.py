"""Which exchanges a request matcher may count: those that did what the expectation says.

A request the API refused or a fault struck (404 for an unknown reference, 429, 503, a
400) fetched and sent nothing, so it is no fetch of the kvittering and no supplering. A
poll of oppdatering after a step that sent oppdateringer counts only once its answer
delivered one of them: a cursor past them all (``etter=999999``) or another reference's
empty list is not "fetches the oppdatering with the new saksnummer".
"""

from __future__ import annotations

from datetime import datetime

from app.scoring.evidence import Exchange, Facts

OPPDATERING = "/api/v1/oppdatering"


def refused(exchange: Exchange) -> str | None:
    """Why the exchange did nothing: the API refused it or a fault answered instead."""
    if 200 <= exchange.status < 300:
        return None
    return f"answered {exchange.status}{f' (fault {exchange.fault})' if exchange.fault else ''}"


def sent_since(facts: Facts, opened: datetime | None) -> dict[int, frozenset[str]]:
    """The oppdateringer the kommune sent at or after ``opened``: sekvensnummer → references."""
    if opened is None:
        return {}
    # Dates on the wire have milliseconds; the step's moment may have more.
    opened = opened.replace(microsecond=opened.microsecond // 1000 * 1000)
    found: dict[int, frozenset[str]] = {}
    for seq, refs, payload in facts.oppdateringer:
        dated = payload.get("oppdatertDato") if isinstance(payload, dict) else None
        if (
            isinstance(dated, str)
            and datetime.fromisoformat(dated.replace("Z", "+00:00")) >= opened
        ):
            found[seq] = frozenset(refs)
    return found


def undelivered(exchange: Exchange, since: dict[int, frozenset[str]]) -> bool:
    """A poll of oppdatering whose answer carried none of ``since`` sent to its reference.

    When none was sent to that reference, or the answer cannot be read, it is not held
    against the poll.
    """
    if exchange.method != "GET" or exchange.path != OPPDATERING:
        return False
    ref = exchange.reference()
    wanted = {seq for seq, refs in since.items() if ref in refs}
    if not wanted:
        return False
    if exchange.response_body is None:
        # Over the journal's body cap: a long answer, which cannot be read here.
        return False
    return not sequence_numbers(exchange) & wanted


def oppdatering_answers(facts: Facts) -> list[Exchange]:
    """The answered polls of oppdatering for a reference, in the order they were answered."""
    return [
        e
        for e in facts.exchanges
        if e.method == "GET" and e.path == OPPDATERING and e.status == 200 and e.reference()
    ]


def sequence_numbers(exchange: Exchange) -> set[int]:
    """The sekvensnummer of every oppdatering an answer carried (none when unreadable)."""
    if not isinstance(exchange.response_body, list):
        return set()
    return {
        int(item["sekvensnummer"])
        for item in exchange.response_body
        if isinstance(item, dict) and str(item.get("sekvensnummer", "")).isdigit()
    }
