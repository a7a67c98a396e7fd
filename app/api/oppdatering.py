"""GET /api/v1/oppdatering: every update for an innsending, in order, with a cursor."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api.prepare import client_request
from app.engine.faults import shape_oppdateringer
from app.engine.runs import oppdateringer_for
from app.errors import Problem, ValidationFailed
from app.store.db import get_session

bp = Blueprint("api_oppdatering", __name__, url_prefix="/api/v1")


def _cursor() -> int:
    raw = request.args.get("etter", "0")
    if not raw.isdigit():
        message = f"'etter' må være et sekvensnummer (et heltall ≥ 0), ikke '{raw}'."
        raise ValidationFailed(message, [Problem("oppdatering.etter.format", "etter", message)])
    return int(raw)


@bp.get("/oppdatering")
def list_oppdateringer() -> Response:
    """Return the oppdateringer for ``innsendingReferanse`` after sekvensnummer ``etter``."""
    run, faults = client_request("oppdatering")
    etter = _cursor()
    items = oppdateringer_for(get_session(), run, request.args.get("innsendingReferanse"), etter)
    items = shape_oppdateringer(items, faults)
    response = jsonify(items)
    last = items[-1]["sekvensnummer"] if items else str(etter)
    response.headers["X-Sandbox-Siste-Sekvensnummer"] = last
    return response
