"""What the kommune sends, rendered and held to DiBK's rules: one call per emission.

The engine hands a domain message here and gets back the payload to store, or an
:class:`~app.errors.EmissionRejected` naming the rule it broke; it never renders or
checks by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.case import Innsending, Sak, UtgaaendeDokument
from app.domain.messages import Kvittering, Oppdatering
from app.errors import EmissionRejected
from app.wire import render, rules


def kvittering(message: Kvittering, sak: Sak, now: datetime) -> dict[str, Any]:
    """The kvittering as sent, checked."""
    return _checked("kvittering", render.kvittering_json(message, sak), now)


def oppdatering(message: Oppdatering, sak: Sak, seq: int, now: datetime) -> dict[str, Any]:
    """The oppdatering with sekvensnummer ``seq`` as sent, checked."""
    return _checked("oppdatering", render.oppdatering_json(message, sak, seq), now)


def status(
    sak: Sak,
    innsending: Innsending,
    now: datetime,
    count: int,
    newest: int | None,
    dokumenter: list[UtgaaendeDokument],
    base_url: str,
) -> dict[str, Any]:
    """The status view of one innsending as sent, checked."""
    payload = render.status_json(sak, innsending, now, count, newest, dokumenter, base_url)
    return _checked("status", payload, now)


def _checked(api: rules.Api, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    problems = rules.check(api, payload, now)
    if problems:
        raise EmissionRejected(
            f"Sandkassen laget en ugyldig {api}: {problems[0].message}", problems
        )
    return payload
