"""Scores and reports for any run, served by the control plane."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.control.actions import caught_up
from app.control.auth import require_admin
from app.errors import Problem, ValidationFailed
from app.reports import MEDIA_TYPES, RENDERERS
from app.scoring.result import combine, score_run
from app.store.db import get_session, settle_journal

bp = Blueprint("control_reports", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)
bp.before_request(settle_journal)
SUFFIX = {"json": "json", "junit": "xml", "html": "html", "markdown": "md"}


def _scored(run_id: str) -> dict[str, Any]:
    return score_run(get_session(), caught_up(run_id))


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
        response.headers["Content-Disposition"] = f'attachment; filename="{run_id}.{SUFFIX[fmt]}"'
    return response
