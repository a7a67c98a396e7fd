"""POST /api/v1/innsending: the client submits a søknad (sandbox stand-in for Altinn/FtB)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app import openapi_dibk as docs
from app.api.prepare import client_request
from app.config import engine_config
from app.engine.runs import submit_innsending
from app.http import load_body
from app.store.db import get_session
from app.wire.dates import iso
from app.wire.inputs import InnsendingSchema

bp = Blueprint("api_innsending", __name__, url_prefix="/api/v1")


@docs.INNSENDING
@bp.post("/innsending")
def post_innsending() -> tuple[Response, int, dict[str, str]]:
    """Register the søknad and return its innsendingReferanse and ftBID."""
    snapshot, _faults = client_request("innsending")
    data = load_body(InnsendingSchema(), "innsending")
    config = engine_config()
    innsending = submit_innsending(get_session(), snapshot.run.id, config, data)
    ref = innsending.innsendingReferanse
    kvittering_url = f"{config.base_url}/api/v1/kvittering?innsendingReferanse={ref}"
    body = {
        "innsendingReferanse": ref,
        "ftBID": innsending.ftBID,
        "mottattDato": iso(innsending.mottattDato),
        "kvitteringUrl": kvittering_url,
    }
    return jsonify(body), 201, {"Location": kvittering_url}
