"""Scores and reports for any run, served by the control plane."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.control.actions import caught_up
from app.control.auth import require_admin
from app.errors import Problem, ValidationFailed
from app.openapi_docs import UNKNOWN_RUN, doc, query
from app.reports import MEDIA_TYPES, RENDERERS
from app.scoring.result import combine, score_run
from app.store.db import get_session

bp = Blueprint("control_reports", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)
SUFFIX = {"json": "json", "junit": "xml", "html": "html", "markdown": "md"}


def _scored(run_id: str) -> dict[str, Any]:
    return score_run(get_session(), caught_up(run_id))


@bp.get("/runs/<run_id>/result")
@doc(
    "Score the run: verdicts, score, coverage (docs/results.md)",
    responses={"200": "The run's result", "404": UNKNOWN_RUN},
)
def get_result(run_id: str) -> Response:
    """The run's verdicts, score and coverage (one entry of the result document)."""
    return jsonify(_scored(run_id))


@bp.get("/runs/<run_id>/report")
@doc(
    "The run's report: ?format=html|junit|markdown|json",
    parameters=[
        query("format", "The report's format (default html).", {"enum": list(RENDERERS)}),
        query("download", "When given, the report comes as an attachment named for the run."),
    ],
    responses={
        "200": {
            "description": "The report",
            "content": {media_type: {} for media_type in MEDIA_TYPES.values()},
        },
        "400": "Unknown format",
        "404": UNKNOWN_RUN,
    },
)
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
