"""GET /api/v1/dokument/{id}: outgoing letters from the dokumentformidler; 410 after 30 days."""

from __future__ import annotations

from flask import Blueprint, Response

from app import openapi_dibk as docs
from app.api.client_request import client_request
from app.engine.reads import dokument_for
from app.store.db import get_session

bp = Blueprint("api_dokument", __name__, url_prefix="/api/v1")


@docs.DOKUMENT
@bp.get("/dokument/<dokument_id>")
def get_dokument(dokument_id: str) -> Response:
    """Return the letter as a PDF."""
    snapshot, faults = client_request("dokument")
    row = dokument_for(get_session(), snapshot.run, dokument_id, faults.document_lifetime)
    response = Response(row.content, mimetype=row.mime_type)
    response.headers["Content-Disposition"] = f'inline; filename="{row.filnavn}"'
    return response
