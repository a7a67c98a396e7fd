"""POST /api/v1/supplering: mangelbesvarelse or ettersending (Supplering av søknad)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app import openapi_dibk as docs
from app import vocabulary
from app.api.client_request import client_request
from app.api.journal import entry_for, recorded_with_change
from app.api.resend import Resend
from app.config import engine_config
from app.engine.changes import Applied, apply_event, new_supplering_ref
from app.engine.reads import innsending_of
from app.http import load_body
from app.store.db import get_session
from app.wire.inputs import SuppleringSchema, supplering_event

bp = Blueprint("api_supplering", __name__, url_prefix="/api/v1")
# The journal's action for the supplering that made the søknad complete.
COMPLETED = vocabulary.CLIENT_ACTIONS["supplering_mottatt"].name


@docs.SUPPLERING
@bp.post("/supplering")
def post_supplering() -> Response:
    """Receive the supplering; the one that leaves no mangel awaited makes the søknad complete."""
    snapshot, _faults = client_request("supplering")
    data = load_body(SuppleringSchema(), "supplering")
    innsending_of(snapshot.sak(), data["innsendingReferanse"])
    session = get_session()
    referanse = new_supplering_ref(session, snapshot.run.id)
    answer: list[Response] = []

    def record(applied: Applied) -> dict[str, Any] | None:
        body = {
            "suppleringReferanse": referanse,
            "innsendingReferanse": data["innsendingReferanse"],
            "mottattDato": applied.to_dict()["virtuellTid"],
            "advarsler": applied.advarsler,
        }
        response = jsonify(body)
        response.status_code = 201
        answer[:] = [response]
        return entry_for(response, COMPLETED if applied.completes else None)

    event = supplering_event(data, referanse)
    resend = Resend(session, snapshot.run.id)
    config = engine_config()
    if apply_event(session, snapshot.run.id, config, event, "api", record, resend) is None:
        assert resend.answer is not None
        return resend.answer  # journalled after the request, as a read is
    recorded_with_change()
    return answer[0]
