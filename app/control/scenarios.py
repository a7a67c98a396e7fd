"""Control plane for the scenario library: the catalogue and one scenario."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.control.auth import require_admin
from app.errors import NotFound, Problem
from app.openapi_docs import doc, query
from app.scenarios.registry import get_registry
from app.scoring.evidence import expectations

bp = Blueprint("control_scenarios", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)


@bp.get("/scenarios")
@doc(
    "The scenario library and the problems of files that did not load",
    responses={"200": "Catalogue"},
)
def list_scenarios() -> Response:
    """The scenario library, and the problems of files that did not load."""
    catalogue = get_registry().catalogue()
    return jsonify(
        {
            "scenarios": [
                {
                    "id": e.id,
                    "version": e.model.version,
                    "title": e.model.title,
                    "description": e.model.description,
                    "tags": list(e.model.tags),
                    "steps": len(e.model.timeline),
                    "expectations": len(e.model.expect),
                    # The verdict ids a run of it gets: its own, then the default checks.
                    "verdicts": [x.id for x in expectations(e.model)],
                    "file": e.path.name,
                }
                for e in sorted(catalogue.entries.values(), key=lambda e: e.id)
            ],
            "problems": [str(p) for p in catalogue.problems],
        }
    )


@bp.get("/scenarios/<scenario_id>")
@doc(
    "One scenario (JSON, or YAML with ?format=yaml)",
    parameters=[
        query(
            "format",
            "yaml for the scenario file as written; anything else gives JSON.",
            {"type": "string", "examples": ["yaml"]},
        )
    ],
    responses={
        "200": {
            "description": "Scenario",
            "content": {"application/json": {}, "application/yaml": {}},
        },
        "404": "Unknown scenario",
    },
)
def get_scenario(scenario_id: str) -> Response:
    """One scenario as JSON, or its YAML with ``?format=yaml``."""
    entry = get_registry().get(scenario_id)
    if entry is None:
        message = f"Scenarioet '{scenario_id}' finnes ikke i biblioteket."
        raise NotFound(message, [Problem("scenario.ukjent", "scenarioId", message)])
    if request.args.get("format") == "yaml":
        return Response(entry.text, mimetype="application/yaml")
    return jsonify(entry.scenario)
