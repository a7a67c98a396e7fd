"""What the kommune sends, rendered and held to its description and DiBK's rules: one call
per emission.

The engine hands a domain message here and gets back the payload to store, or an
:class:`~app.errors.EmissionRejected` naming the field or rule it broke; it never renders
or checks by itself. The output schemas (``app.wire.outputs``) are the one description
of each payload — the OpenAPI document is made from them — and every payload is held
to them here, unknown keys refused, so what is sent and what is described cannot drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema

from app.domain.case import Innsending, Sak, UtgaaendeDokument
from app.domain.messages import Kvittering, Oppdatering
from app.errors import EmissionRejected, Problem
from app.wire import outputs, render, rules
from app.wire.inputs import problems_from

_DESCRIBED: dict[rules.Api, Schema] = {
    "kvittering": outputs.KvitteringOut(),
    "oppdatering": outputs.OppdateringOut(),
    "status": outputs.StatusOut(),
}


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
    errors = _DESCRIBED[api].validate(payload)
    problems: list[Problem] = problems_from(errors, api) if errors else []
    problems += rules.check(api, payload, now)
    if problems:
        raise EmissionRejected(
            f"Sandkassen laget en ugyldig {api}: {problems[0].message}", problems
        )
    return payload
