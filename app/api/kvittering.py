"""GET /api/v1/kvittering: the receipt, once the kommune has journalført the innsending."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app import openapi_dibk as docs
from app.api.kept_answers import offer
from app.api.prepare import client_request
from app.engine.runs import kvittering_for
from app.http import json_body
from app.store.db import get_session

bp = Blueprint("api_kvittering", __name__, url_prefix="/api/v1")


@docs.KVITTERING
@bp.get("/kvittering")
def get_kvittering() -> Response:
    """Return the kvittering for ``innsendingReferanse`` (404 until journalført)."""
    snapshot, _faults = client_request("kvittering")
    ref = request.args.get("innsendingReferanse")
    key = ("kvittering", ref)
    body = snapshot.memo.get(key)
    if body is None:
        # A kvittering never changes once emitted: encode it once per run version.
        body = json_body(kvittering_for(get_session(), snapshot.run, ref))
        snapshot.memo[key] = body
    offer()  # the same for as long as the run stays at this version
    return Response(body, mimetype="application/json")
