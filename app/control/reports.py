"""Scores and reports for any run, served by the control plane."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.config import engine_config
from app.control.auth import require_admin
from app.control.runs import run_or_404
from app.engine.timeline import catch_up
from app.errors import Problem, ValidationFailed
from app.reports import MEDIA_TYPES, RENDERERS
from app.scoring.result import combine, score_run
from app.store.db import get_session
from app.store.models import Run

bp = Blueprint("control_reports", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)


def _scored(run_id: str) -> dict[str, Any]:
    run_or_404(run_id)
    session = get_session()
    catch_up(session, run_id, engine_config())
    session.rollback()
    run = session.get(Run, run_id)
    assert run is not None
    return score_run(session, run)


@bp.get("/runs/<run_id>/result")
def get_result(run_id: str) -> Response:
    """The run's verdicts, score and coverage (one entry of the result document)."""
    return jsonify(_scored(run_id))


@bp.get("/runs/<run_id>/report")
def get_report(run_id: str) -> Response:
    """The run's report: ``?format=json|junit|html|markdown`` (default html)."""
    fmt = request.args.get("format", "html")
    if fmt not in RENDERERS:
        message = f"'{fmt}' er ikke et rapportformat; velg {', '.join(RENDERERS)}."
        raise ValidationFailed(message, [Problem("rapport.format", "format", message)])
    document = combine([_scored(run_id)], request.host_url.rstrip("/"))
    response = Response(RENDERERS[fmt](document), mimetype=MEDIA_TYPES[fmt])
    if request.args.get("download"):
        suffix = {"json": "json", "junit": "xml", "html": "html", "markdown": "md"}[fmt]
        response.headers["Content-Disposition"] = f'attachment; filename="{run_id}.{suffix}"'
    return response
