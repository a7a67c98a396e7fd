"""GET /api/v1/oppdatering: every update for an innsending, in order, with a cursor."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from app import openapi_dibk as docs
from app.api.kept_answers import offer
from app.api.prepare import client_request
from app.engine.faults import shape_oppdateringer
from app.engine.runs import oppdateringer_for
from app.engine.snapshots import Snapshot
from app.errors import Problem, ValidationFailed
from app.http import json_body
from app.store.db import get_session

bp = Blueprint("api_oppdatering", __name__, url_prefix="/api/v1")


def _cursor() -> int:
    raw = request.args.get("etter", "0")
    if not raw.isdigit():
        message = f"'etter' må være et sekvensnummer (et heltall ≥ 0), ikke '{raw}'."
        raise ValidationFailed(message, [Problem("oppdatering.etter.format", "etter", message)])
    return int(raw)


def _all_for(snapshot: Snapshot, ref: str | None) -> list[dict[str, Any]]:
    """Every oppdatering for ``ref`` at this run version (new ones come with a new version)."""
    key = ("oppdateringer", ref)
    items: list[dict[str, Any]] | None = snapshot.memo.get(key)
    if items is None:
        items = oppdateringer_for(get_session(), snapshot.run, snapshot.sak(), ref)
        snapshot.memo[key] = items
    return items


@docs.OPPDATERING
@bp.get("/oppdatering")
def list_oppdateringer() -> Response:
    """Return the oppdateringer for ``innsendingReferanse`` after sekvensnummer ``etter``."""
    snapshot, faults = client_request("oppdatering")
    etter = _cursor()
    ref = request.args.get("innsendingReferanse")
    everything = _all_for(snapshot, ref)
    items = [item for item in everything if int(item["sekvensnummer"]) > etter]
    if faults.applied:
        items = shape_oppdateringer(items, faults)
        body = json_body(items)
    else:
        # A polling client asks the same question again and again: answer from memory.
        newest = int(everything[-1]["sekvensnummer"]) if everything else 0
        key = ("oppdatering-body", ref, min(etter, newest))
        cached: bytes | None = snapshot.memo.get(key)
        body = cached if cached is not None else json_body(items)
        snapshot.memo[key] = body
        offer()  # the same for as long as the run stays at this version
    last = items[-1]["sekvensnummer"] if items else str(etter)
    response = Response(body, mimetype="application/json")
    response.headers["X-Sandbox-Siste-Sekvensnummer"] = last
    return response
