"""POST /api/v1/supplering: mangelbesvarelse or ettersending (Supplering av søknad)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app import openapi_dibk as docs
from app.api.prepare import client_request
from app.config import engine_config
from app.engine.runs import apply_event, innsending_of, new_supplering_ref
from app.http import load_body
from app.store.db import get_session
from app.wire.inputs import SuppleringSchema, supplering_event

bp = Blueprint("api_supplering", __name__, url_prefix="/api/v1")


@docs.SUPPLERING
@bp.post("/supplering")
def post_supplering() -> tuple[Response, int]:
    """Receive the supplering; answering every open mangel makes the søknad complete."""
    snapshot, _faults = client_request("supplering")
    data = load_body(SuppleringSchema(), "supplering")
    innsending_of(snapshot.sak(), data["innsendingReferanse"])
    run = snapshot.run
    session = get_session()
    referanse = new_supplering_ref(session, run.id)
    applied = apply_event(
        session, run.id, engine_config(), supplering_event(data, referanse), source="api"
    )
    body = {
        "suppleringReferanse": referanse,
        "innsendingReferanse": data["innsendingReferanse"],
        "mottattDato": applied.to_dict()["virtuellTid"],
        "advarsler": applied.advarsler,
    }
    return jsonify(body), 201
