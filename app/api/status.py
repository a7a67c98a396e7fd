"""GET /api/v1/status: the current view of an innsending (sandbox extension)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app import openapi_dibk as docs
from app.api.client_request import client_request
from app.config import engine_config
from app.engine.reads import status_for
from app.store.db import get_session

bp = Blueprint("api_status", __name__, url_prefix="/api/v1")


@docs.STATUS
@bp.get("/status")
def get_status() -> Response:
    """Return the case as it stands now for ``innsendingReferanse``."""
    snapshot, _faults = client_request("status")
    ref = request.args.get("innsendingReferanse")
    return jsonify(status_for(get_session(), snapshot.run, snapshot.sak(), ref, engine_config()))
