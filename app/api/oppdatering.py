"""GET /api/v1/oppdatering: every update for an innsending, in order, with a cursor."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app import openapi_dibk as docs
from app.api.client_request import client_request
from app.engine.faults import shape_oppdateringer
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


@docs.OPPDATERING
@bp.get("/oppdatering")
def list_oppdateringer() -> Response:
    """Return the oppdateringer for ``innsendingReferanse`` after sekvensnummer ``etter``."""
    snapshot, faults = client_request("oppdatering")
    etter = _cursor()
    ref = request.args.get("innsendingReferanse")
    if faults.applied:
        everything = snapshot.oppdateringer(get_session, ref)
        items = [item for item in everything if int(item["sekvensnummer"]) > etter]
        items = shape_oppdateringer(items, faults)
        body = json_body(items)
        last = items[-1]["sekvensnummer"] if items else str(etter)
    else:
        body, last = snapshot.oppdatering_body(get_session, ref, etter, json_body)
    response = Response(body, mimetype="application/json")
    response.headers["X-Sandbox-Siste-Sekvensnummer"] = last
    return response
