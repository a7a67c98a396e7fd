"""POST /api/v1/supplering: Supplering av søknad v2 (answers to outcomes, ettersendinger)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app import openapi_dibk as docs
from app import vocabulary
from app.api.client_request import client_request
from app.api.journal import entry_for, recorded_with_change
from app.api.resend import Resend
from app.api.tenant_innsending import route_if_tenant
from app.config import engine_config
from app.domain.answers import find_case
from app.domain.case import Sak
from app.engine.changes import Applied, apply_event
from app.engine.reads import innsending_of
from app.errors import Problem, ValidationFailed
from app.http import FormBody, load_json_or_form
from app.store.db import get_session
from app.wire.inputs import SuppleringSchema, supplering_event
from app.wire.xml_forms import SUPPLERING

bp = Blueprint("api_supplering", __name__, url_prefix="/api/v1")
# The journal's action for the supplering that made the søknad complete.
COMPLETED = vocabulary.CLIENT_ACTIONS["supplering_mottatt"].name


def name_case(sak: Sak, data: dict[str, Any]) -> None:
    """Find the case a supplering names: by its innsendingReferanse, else by the saksnummer.

    A saksnummer the credentials' cases never had is a 400; the found reference is written
    into ``data``, so the answer and the journal's canonical body name it.
    """
    if data["innsendingReferanse"]:
        innsending_of(sak, data["innsendingReferanse"])
        return
    saksnummer = data["kommunensSaksnummer"]
    found = find_case(sak, saksnummer, [s["utfallId"] for s in data["utfallSvar"]])
    if found is None:
        message = f"Ingen sak i denne kjøringen har hatt saksnummer {saksnummer.label}."
        raise ValidationFailed(
            message,
            [Problem("supplering.kommunensSaksnummer.ukjent", "kommunensSaksnummer", message)],
        )
    data["innsendingReferanse"] = found.innsendingReferanse


def _read() -> FormBody:
    return load_json_or_form(SuppleringSchema(), "supplering", (SUPPLERING,))


@docs.SUPPLERING
@bp.post("/supplering")
def post_supplering() -> Response:
    """Receive the supplering; the one that leaves no mangel awaited makes the søknad complete."""
    form = route_if_tenant(_read)
    snapshot, _faults = client_request("supplering")
    form = form or _read()
    data = form.loaded
    try:
        name_case(snapshot.sak(), data)
    except ValidationFailed as exc:
        raise form.located(exc) from exc
    session = get_session()
    answer: list[Response] = []

    def record(applied: Applied) -> dict[str, Any] | None:
        answer_body = {
            "suppleringReferanse": applied.referanse,
            "innsendingReferanse": data["innsendingReferanse"],
            "mottattDato": applied.to_dict()["virtuellTid"],
            "advarsler": form.advarsler + applied.advarsler,
        }
        response = jsonify(answer_body)
        response.status_code = 201
        answer[:] = [response]
        return entry_for(response, COMPLETED if applied.completes else None)

    event = supplering_event(data)
    resend = Resend(session, snapshot.run.id)
    config = engine_config()
    try:
        applied = apply_event(session, snapshot.run.id, config, event, "api", record, resend)
    except ValidationFailed as exc:
        raise form.located(exc) from exc
    if applied is None:
        assert resend.answer is not None
        return resend.answer  # journalled after the request, as a read is
    recorded_with_change()
    return answer[0]
