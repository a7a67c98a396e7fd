"""OpenAPI 3.1 for the simulated API and the control plane, from the marshmallow schemas."""

from __future__ import annotations

import functools
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, jsonify

from app.wire import inputs, outputs

ASSUMPTION = "x-sandbox-assumption"
bp = Blueprint("openapi", __name__)


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


REF_PARAM = {
    "name": "innsendingReferanse",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "example": "AR12345679"},
    "description": "The submission's Altinn reference.",
}
COMMON_ERRORS = {
    "400": _problem("innsendingReferanse missing or malformed"),
    "401": _problem("Missing or wrong HTTP Basic credentials"),
    "404": _problem("Unknown reference (also another run's)"),
}


def _paths() -> dict[str, dict[str, Any]]:
    return {
        "/api/v1/kvittering": {
            "get": {
                "tags": ["DiBK saksbehandlingsdata"],
                "summary": "The kvittering (receipt) for a submission",
                "description": "DiBK fact: path and shape. 404 until the kommune has journalført.",
                "parameters": [REF_PARAM],
                "responses": {"200": {"description": "Kvittering", "content": _json("Kvittering")}}
                | COMMON_ERRORS,
            }
        },
        "/api/v1/oppdatering": {
            "get": {
                "tags": ["DiBK saksbehandlingsdata"],
                "summary": "All oppdateringer for a submission, in order",
                "description": (
                    "Draft 1 (utkast-2022) API. Sandbox assumption: the response is a JSON array; "
                    "each item has a string `sekvensnummer`, strictly increasing per run (gaps "
                    "are possible when several submissions share a run); `etter=N` returns only "
                    "items after N."
                ),
                ASSUMPTION: True,
                "parameters": [
                    REF_PARAM,
                    {
                        "name": "etter",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0},
                        "description": "Cursor: the last sekvensnummer the client has seen.",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "Oppdateringer",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Oppdatering"},
                                }
                            }
                        },
                    }
                }
                | COMMON_ERRORS,
            }
        },
        "/api/v1/status": {
            "get": {
                "tags": ["DiBK saksbehandlingsdata"],
                "summary": "The current view of a submission",
                "description": (
                    "Sandbox extension modelled on DiBK's planned 'API for status (ny versjon)'."
                ),
                ASSUMPTION: True,
                "parameters": [REF_PARAM],
                "responses": {"200": {"description": "Status", "content": _json("Status")}}
                | COMMON_ERRORS,
            }
        },
        "/api/v1/dokument/{dokumentId}": {
            "get": {
                "tags": ["DiBK saksbehandlingsdata"],
                "summary": "An outgoing document (PDF)",
                "description": "DiBK fact: 410 Gone once the document is 30 days old (run's time).",
                "parameters": [
                    {
                        "name": "dokumentId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {"description": "The letter", "content": {"application/pdf": {}}},
                    "401": _problem("Missing or wrong credentials"),
                    "404": _problem("Unknown document"),
                    "410": _problem("Deleted after 30 days"),
                },
            }
        },
        "/api/v1/innsending": {
            "post": {
                "tags": ["Sandbox stand-ins"],
                "summary": "Submit a søknad (stand-in for Altinn/FtB)",
                "description": "Sandbox assumption: real submissions go through Altinn and FtB.",
                ASSUMPTION: True,
                "requestBody": {"required": True, "content": _json("Innsending")},
                "responses": {
                    "201": {"description": "Registered; innsendingReferanse and kvitteringUrl"},
                    "400": _problem("Malformed JSON or field errors"),
                    "401": _problem("Missing or wrong credentials"),
                    "413": _problem("Body over SANDBOX_MAX_BODY_BYTES"),
                    "415": _problem("Not application/json"),
                },
            }
        },
        "/api/v1/supplering": {
            "post": {
                "tags": ["Sandbox stand-ins"],
                "summary": "Supplering av søknad: mangelbesvarelse or ettersending",
                "description": (
                    "Sandbox assumption: real suppleringer go through Altinn and FtB. Each "
                    "mangelbesvarelse must echo a mangelID; kommunensSaksnummer is required then."
                ),
                ASSUMPTION: True,
                "requestBody": {"required": True, "content": _json("Supplering")},
                "responses": {
                    "201": {"description": "Received; advarsler lists soft problems"},
                    "400": _problem("Malformed JSON, field errors or an unknown mangelID"),
                    "401": _problem("Missing or wrong credentials"),
                    "404": _problem("Unknown innsendingReferanse"),
                    "413": _problem("Body over SANDBOX_MAX_BODY_BYTES"),
                    "415": _problem("Not application/json"),
                },
            }
        },
        "/sandbox/runs": {
            "post": {
                "tags": ["Sandbox control plane"],
                "summary": "Create a run (returns credentials once)",
                "requestBody": {"required": False, "content": _json("RunCreate")},
                "responses": {"201": {"description": "The run with its credentials"}},
            },
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "List runs",
                "responses": {"200": {"description": "Runs"}},
            },
        },
        "/sandbox/runs/{runId}": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "One run",
                "responses": {"200": {"description": "The run"}},
            },
            "delete": {
                "tags": ["Sandbox control plane"],
                "summary": "Delete a run",
                "responses": {"204": {"description": "Deleted"}},
            },
        },
        "/sandbox/runs/{runId}/events": {
            "post": {
                "tags": ["Sandbox control plane"],
                "summary": "Apply a kommune event",
                "description": "Event types: " + ", ".join(inputs.EVENT_SCHEMAS) + ".",
                "requestBody": {"required": True, "content": _json("Event")},
                "responses": {
                    "201": {"description": "What the client will see"},
                    "400": _problem("Field errors"),
                    "409": _problem("The case does not allow this event now"),
                },
            }
        },
        "/sandbox/runs/{runId}/clock": {
            "post": {
                "tags": ["Sandbox control plane"],
                "summary": "Move the run's virtual clock forward",
                "requestBody": {"required": True, "content": _json("ClockMove")},
                "responses": {"200": {"description": "The new virtual time"}},
            }
        },
        "/sandbox/runs/{runId}/next": {
            "post": {
                "tags": ["Sandbox control plane"],
                "summary": "Jump to the kommune's next step (move the clock or fire a manual one)",
                "responses": {"200": {"description": "What fired, the new time, what waits"}},
            }
        },
        "/sandbox/runs/{runId}/steps/{stepId}/fire": {
            "post": {
                "tags": ["Sandbox control plane"],
                "summary": "Fire one scenario step now",
                "responses": {
                    "201": {"description": "What the client will see"},
                    "404": _problem("Unknown step"),
                    "409": _problem("Already fired, or waiting for the client"),
                },
            }
        },
        "/sandbox/runs/{runId}/finish": {
            "post": {
                "tags": ["Sandbox control plane"],
                "summary": "End the run: no more steps fire",
                "responses": {"200": {"description": "The run"}},
            }
        },
        "/sandbox/runs/{runId}/timeline": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "The scenario's steps with status, due and fire times",
                "responses": {"200": {"description": "Timeline"}},
            }
        },
        "/sandbox/runs/{runId}/result": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "Score the run: verdicts, score, coverage (docs/results.md)",
                "responses": {"200": {"description": "The run's result"}},
            }
        },
        "/sandbox/runs/{runId}/report": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "The run's report: ?format=html|junit|markdown|json",
                "responses": {
                    "200": {"description": "The report"},
                    "400": _problem("Unknown format"),
                },
            }
        },
        "/sandbox/scenarios": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "The scenario library and the problems of files that did not load",
                "responses": {"200": {"description": "Catalogue"}},
            }
        },
        "/sandbox/scenarios/{scenarioId}": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "One scenario (JSON, or YAML with ?format=yaml)",
                "responses": {"200": {"description": "Scenario"}, "404": _problem("Unknown")},
            }
        },
        "/sandbox/runs/{runId}/case": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "The case and event log",
                "responses": {"200": {"description": "Case"}},
            }
        },
        "/sandbox/runs/{runId}/journal": {
            "get": {
                "tags": ["Sandbox control plane"],
                "summary": "Recorded exchanges",
                "responses": {"200": {"description": "Journal"}},
            }
        },
    }


@functools.cache
def build_spec() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    spec = APISpec(
        title="byggesak-sandbox",
        version="0.1.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "A sandbox that plays a Norwegian kommune on DiBK's saksbehandlingsdata APIs "
                f"(profile utkast-2022). Operations marked `{ASSUMPTION}: true` are sandbox "
                "choices where DiBK's documentation is silent; see docs/wire-contract.md."
            )
        },
    )
    spec.components.security_scheme("runBasic", {"type": "http", "scheme": "basic"})
    spec.components.security_scheme("adminBearer", {"type": "http", "scheme": "bearer"})
    for name, schema in (
        ("Kvittering", outputs.KvitteringOut),
        ("Oppdatering", outputs.OppdateringOut),
        ("Status", outputs.StatusOut),
        ("Problem", outputs.ProblemOut),
        ("Innsending", inputs.InnsendingSchema),
        ("Supplering", inputs.SuppleringSchema),
        ("RunCreate", inputs.RunCreateSchema),
        ("ClockMove", inputs.ClockMoveSchema),
        ("Event", inputs.EventSchema),
    ):
        spec.components.schema(name, schema=schema)
    for path, operations in _paths().items():
        for operation in operations.values():
            operation["security"] = (
                [{"adminBearer": []}] if path.startswith("/sandbox") else [{"runBasic": []}]
            )
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """Serve the OpenAPI document."""
    return jsonify(build_spec())


def init_app(app: Flask) -> None:
    """Serve /openapi.json."""
    app.register_blueprint(bp)
