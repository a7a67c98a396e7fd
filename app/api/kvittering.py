"""GET /api/v1/kvittering: the receipt, once the kommune has journalført the innsending."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app import openapi_dibk as docs
from app.api.client_request import client_request
from app.http import json_body
from app.store.db import get_session

bp = Blueprint("api_kvittering", __name__, url_prefix="/api/v1")


@docs.KVITTERING
@bp.get("/kvittering")
def get_kvittering() -> Response:
    """Return the kvittering for ``innsendingReferanse`` (404 until journalført)."""
    snapshot, _faults = client_request("kvittering")
    ref = request.args.get("innsendingReferanse")
    body = snapshot.kvittering(get_session, ref, json_body)
    return Response(body, mimetype="application/json")
