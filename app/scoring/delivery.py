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


def sent_since(facts: Facts, opened: datetime | None) -> set[int]:
    """Sekvensnumre of the oppdateringer the kommune sent at or after ``opened``."""
    if opened is None:
        return set()
    # Dates on the wire have milliseconds; the step's moment may have more.
    opened = opened.replace(microsecond=opened.microsecond // 1000 * 1000)
    found: set[int] = set()
    for seq, _refs, payload in facts.oppdateringer:
        dated = payload.get("oppdatertDato") if isinstance(payload, dict) else None
        if (
            isinstance(dated, str)
            and datetime.fromisoformat(dated.replace("Z", "+00:00")) >= opened
        ):
            found.add(seq)
    return found


def undelivered(exchange: Exchange, since: set[int]) -> bool:
    """A poll of oppdatering whose answer carried none of ``since`` (when it is readable)."""
    if exchange.method != "GET" or exchange.path != OPPDATERING or not since:
        return False
    if exchange.response_body is None:
        # Over the journal's body cap: a long answer, which cannot be read here.
        return False
    items = exchange.response_body if isinstance(exchange.response_body, list) else []
    got = {
        int(item["sekvensnummer"])
        for item in items
        if isinstance(item, dict) and str(item.get("sekvensnummer", "")).isdigit()
    }
    return not got & since
