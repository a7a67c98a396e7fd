"""GET /api/v1/kvittering: the receipt, once the kommune has journalført the innsending."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api.prepare import client_request
from app.engine.runs import kvittering_for
from app.store.db import get_session

bp = Blueprint("api_kvittering", __name__, url_prefix="/api/v1")


@bp.get("/kvittering")
def get_kvittering() -> Response:
    """Return the kvittering for ``innsendingReferanse`` (404 until journalført)."""
    run, _faults = client_request("kvittering")
    return jsonify(kvittering_for(get_session(), run, request.args.get("innsendingReferanse")))
