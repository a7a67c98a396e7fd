"""POST /api/v1/innsending: the client submits a søknad (sandbox stand-in for Altinn/FtB)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app import openapi_dibk as docs
from app.api.client_request import client_request
from app.api.journal import entry_for, recorded_with_change
from app.api.resend import Resend
from app.api.tenant_innsending import start_if_tenant
from app.config import engine_config
from app.domain.case import Innsending
from app.engine.changes import submit_innsending
from app.errors import ValidationFailed
from app.http import FormBody, load_json_or_form
from app.store.db import get_session
from app.wire.dates import iso
from app.wire.inputs.soeknad import SOEKNADER, SoeknadFormSchema, SoeknadSchema, form_innsending

bp = Blueprint("api_innsending", __name__, url_prefix="/api/v1")


@docs.INNSENDING
@bp.post("/innsending")
def post_innsending() -> Response:
    """Register the søknad and return its innsendingReferanse and ftBID."""
    form, referanse, earlier = start_if_tenant(read_soeknad)  # a tenant's: a run of its own
    if earlier is not None:
        return earlier  # the tenant's søknad sent again; journalled after the request
    snapshot, _faults = client_request("innsending")
    if form is None:
        form = read_soeknad()
    data = form.loaded
    config = engine_config()
    answer: list[Response] = []
    advarsler: list[str] = []

    def record(innsending: Innsending) -> dict[str, Any] | None:
        ref = innsending.innsendingReferanse
        kvittering_url = f"{config.base_url}/api/v1/kvittering?innsendingReferanse={ref}"
        body = {
            "innsendingReferanse": ref,
            "ftBID": innsending.ftBID,
            "mottattDato": iso(innsending.mottattDato),
            "kvitteringUrl": kvittering_url,
            "advarsler": form.advarsler + advarsler,
        }
        response = jsonify(body)
        response.status_code = 201
        response.headers["Location"] = kvittering_url
        answer[:] = [response]
        return entry_for(response)

    session = get_session()
    resend = Resend(session, snapshot.run.id)
    try:
        created = submit_innsending(
            session,
            snapshot.run.id,
            config,
            data,
            record=record,
            replayed=resend,
            referanse=referanse,
            advarsler=advarsler,
        )
    except ValidationFailed as exc:
        raise form.located(exc) from exc
    if created is None:
        assert resend.answer is not None
        return resend.answer  # journalled after the request, as a read is
    recorded_with_change()
    return answer[0]


def read_soeknad() -> FormBody:
    """The søknad in the body: the sandbox's JSON or one of DiBK's XML søknader."""
    return load_json_or_form(
        SoeknadSchema(),
        "innsending",
        SOEKNADER,
        form_schema=SoeknadFormSchema(),
        to_json=form_innsending,
    )
