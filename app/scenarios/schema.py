"""The scenario format as JSON Schema (draft-07): the one source for the loader and for editors.

The event part is generated from the same marshmallow schemas the control plane loads
events with (``app.wire.inputs.EVENT_SCHEMAS``), so a field an event accepts by hand is a
field a scenario may use, and ``scenarios/scenario.schema.json`` is this module's output
(``byggesak-sandbox schema`` writes it; a test fails when the committed file is stale).
Every list of names in it (event kinds, client actions, fault kinds and APIs, checks,
severities) comes from :mod:`app.vocabulary`.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema

from app import limits, vocabulary
from app.domain.durations import DELAY_PATTERN
from app.wire import inputs

REF = r"^(\$\{innsending\.[a-z][a-z0-9_-]*\}|AR\d+)$"


def _json_schema(schema: type[Schema]) -> dict[str, Any]:
    """A marshmallow schema as JSON Schema, nested schemas inlined (apispec is untyped)."""
    converter = OpenAPIConverter(
        openapi_version="3.0.0",
        schema_name_resolver=lambda _schema: None,
        spec=None,  # type: ignore[arg-type]
    )
    converter.map_to_openapi_type(inputs.UtcDateTime, "string", "date-time")  # type: ignore[no-untyped-call]
    converter.map_to_openapi_type(inputs.DigitString, "string", None)  # type: ignore[no-untyped-call]
    result = converter.schema2jsonschema(schema)  # type: ignore[no-untyped-call]
    return _draft7(result)  # type: ignore[no-any-return]


def _draft7(node: Any) -> Any:
    """Turn apispec's OpenAPI 3.0 output into plain draft-07 (``nullable`` → a null type)."""
    if isinstance(node, list):
        return [_draft7(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _draft7(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        out.pop("default", None)
    return out


def _event_schema() -> dict[str, Any]:
    kinds = list(inputs.EVENT_SCHEMAS)
    branches = []
    for kind, schema in inputs.EVENT_SCHEMAS.items():
        body = _json_schema(schema)
        body["properties"]["type"] = {"const": kind}
        ref = body["properties"].get("innsendingReferanse")
        if ref is not None:
            ref["description"] = "AR reference or ${innsending.<id>} of a case innsending"
        branches.append({"if": {"properties": {"type": {"const": kind}}}, "then": body})
    return {
        "type": "object",
        "description": "A kommune event: the same body as POST /sandbox/runs/{id}/events.",
        "required": ["type"],
        "properties": {
            "type": {
                "enum": kinds,
                "description": "The event kind: "
                + _glossary({k: v.description for k, v in vocabulary.EVENT_KINDS.items()}),
            }
        },
        "allOf": branches,
    }


def _innsending_schema() -> dict[str, Any]:
    body = _json_schema(inputs.InnsendingSchema)
    body["properties"]["id"] = {
        "type": "string",
        "pattern": "^[a-z][a-z0-9_-]*$",
        "description": "Name to refer to it as ${innsending.<id>} in events.",
    }
    body["properties"]["innsendt_av"] = {
        "enum": ["sandbox", "client"],
        "default": "sandbox",
        "description": (
            "sandbox: submitted when the run starts; client: the run waits for the client's "
            "own POST /api/v1/innsending and binds the id to it (the fields then only "
            "describe what is expected)."
        ),
    }
    body["required"] = ["id"]
    return body


def _glossary(words: dict[str, str]) -> str:
    return "; ".join(f"{name}: {meaning}" for name, meaning in words.items())


def _duration(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": DELAY_PATTERN, "description": description}


@functools.cache
def scenario_schema() -> dict[str, Any]:
    """The whole scenario JSON Schema (draft-07)."""
    step_id = {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"}
    trigger = {
        "type": "object",
        "additionalProperties": False,
        "description": "When the step fires: exactly one of at, after, on or manual.",
        "properties": {
            "at": _duration("Virtual time after the run starts, e.g. PT2H or '1 virkedag'."),
            "after": {**step_id, "description": "Fire after this step has fired."},
            "on": {
                "enum": list(vocabulary.TRIGGER_ACTIONS),
                "description": "Fire after a client action: "
                + _glossary(vocabulary.TRIGGER_ACTIONS),
            },
            "count": {
                "type": "integer",
                "minimum": 1,
                "default": 1,
                "description": "With on: the Nth such action.",
            },
            "delay": _duration("With after or on: how long after, e.g. P1D or '2 virkedager'."),
            "manual": {
                "const": True,
                "description": "Fires only by hand (control API 'fire' or 'next').",
            },
        },
    }
    step = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "trigger", "event"],
        "properties": {
            "id": {**step_id, "description": "Unique step id."},
            "title": {"type": "string", "description": "What happens, for people."},
            "trigger": trigger,
            "event": _event_schema(),
        },
    }
    fault = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "kind"],
        "properties": {
            "id": {**step_id, "description": "Unique fault id (shown in the journal)."},
            "kind": {
                "enum": list(vocabulary.FAULT_KINDS),
                "description": _glossary(
                    {k: v.description for k, v in vocabulary.FAULT_KINDS.items()}
                ),
            },
            "api": {
                "enum": list(vocabulary.FAULT_APIS),
                "default": vocabulary.ANY_API,
                "description": "Which API it hits.",
            },
            "status": {"enum": [429, 500, 503], "description": "For kind status."},
            "retry_after": {
                "type": "integer",
                "minimum": 0,
                "description": "Seconds in Retry-After (kind status; default 1).",
            },
            "delay_ms": {
                "type": "integer",
                "minimum": 1,
                "maximum": 30000,
                "description": "For kind slow.",
            },
            "step": {
                **step_id,
                "description": "For duplicate and out_of_order: the step whose oppdatering.",
            },
            "duration": _duration("For out_of_order and document_gone."),
            "after_step": {**step_id, "description": "Active only once this step has fired."},
            "times": {
                "type": "integer",
                "minimum": 1,
                "description": "Hit only the first N matching requests (default: every).",
            },
            "probability": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 1,
                "description": "Hit each matching request with this seeded probability.",
            },
        },
    }
    expectation = {
        "type": "object",
        "additionalProperties": False,
        "required": ["id"],
        "description": "What the client must do; the scoring turns each into a verdict.",
        "properties": {
            "id": {**step_id, "description": "Unique expectation id."},
            "title": {"type": "string"},
            "requirement": {
                "type": "string",
                "description": "The DiBK rule it checks, e.g. DIBK-SUPPLERING-MANGELID.",
            },
            "severity": {
                "enum": list(vocabulary.SEVERITIES),
                "default": vocabulary.DEFAULT_SEVERITY,
                "description": _glossary(
                    {k: v.description for k, v in vocabulary.SEVERITIES.items()}
                ),
            },
            "weight": {"type": "number", "minimum": 0, "default": 1},
            "optional": {
                "type": "boolean",
                "default": False,
                "description": "A must that the run may leave undecided (SKIPPED, PENDING, "
                "INCOMPLETE) without failing; it still fails the run when it does not hold.",
            },
            "check": {
                "enum": list(vocabulary.PROTOCOL_CHECKS),
                "description": "A reusable protocol check instead of a request matcher: "
                + _glossary({k: v.title for k, v in vocabulary.PROTOCOL_CHECKS.items()}),
            },
            "request": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "method": {"enum": ["GET", "POST", "PUT", "DELETE"]},
                    "path": {"type": "string"},
                    "query": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {
                        "type": "object",
                        "description": "JSON path → expected value ('*' = present, non-empty).",
                    },
                },
            },
            "count": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "exactly": {"type": "integer", "minimum": 0},
                    "min": {"type": "integer", "minimum": 0},
                    "max": {"type": "integer", "minimum": 0},
                },
            },
            "never": {"type": "boolean", "description": "No matching exchange may occur."},
            "after": {**step_id, "description": "Only exchanges after this step fired count."},
            "within": _duration("Deadline in virtual time, from `after` (or the start)."),
            "within_polls": {"type": "integer", "minimum": 1},
        },
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://byggesak-sandbox.invalid/scenario.schema.json",
        "title": "byggesak-sandbox scenario",
        "description": "A scripted kommune: case setup, a timeline of events and expectations.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "version", "title", "description", "timeline"],
        "properties": {
            "id": {**step_id, "description": "Scenario id, used to start runs."},
            "version": {"type": "integer", "minimum": 1},
            "title": {"type": "string", "minLength": 1},
            "description": {"type": "string", "minLength": 1, "description": "For vendors."},
            "profile": {"enum": ["utkast-2022"], "default": "utkast-2022"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": limits.IDENTIFIER},
                "maxItems": limits.CODES,
                "uniqueItems": True,
            },
            "seed": {"type": "integer", "minimum": 0, "description": "Default seed for runs."},
            "clock": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "start": {
                        "type": "string",
                        "format": "date-time",
                        "description": "Virtual start time (default: now).",
                    }
                },
            },
            "variables": {
                "type": "object",
                "description": "Constants usable as ${name} in event and case values.",
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
                "additionalProperties": {"type": ["string", "number", "boolean"]},
            },
            "case": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "kommunenummer": {
                        "type": "string",
                        "pattern": r"^\d{4}$",
                        "description": 'Quote it: "0301".',
                    },
                    "fraEbyggesaksystem": {"type": "string"},
                    "innsendinger": {"type": "array", "items": _innsending_schema()},
                    "godtar_besvares_senere": {
                        "type": "boolean",
                        "default": False,
                        "description": "A mangel the client declares answered later "
                        "(erUtfallBesvaresSenere) counts toward completeness: the søknad "
                        "becomes complete and on: supplering_mottatt fires without waiting "
                        "for its answer. Default: the kommune waits.",
                    },
                },
            },
            "timeline": {"type": "array", "minItems": 1, "items": step},
            "faults": {"type": "array", "items": fault},
            "expect": {"type": "array", "items": expectation},
            "checks": {
                "type": "object",
                "additionalProperties": False,
                "description": "Tune the protocol checks every run gets (a check the scenario "
                "names in `expect` is judged there instead).",
                "properties": {
                    name: {
                        "type": "object",
                        "additionalProperties": False,
                        "description": f"{check.title}.",
                        "properties": {
                            "enabled": {
                                "type": "boolean",
                                "default": check.default,
                                "description": "false: do not run it on this scenario.",
                            },
                            "severity": {
                                "enum": list(vocabulary.SEVERITIES),
                                "default": check.severity,
                            },
                            "weight": {"type": "number", "minimum": 0, "default": 1},
                        },
                    }
                    for name, check in vocabulary.PROTOCOL_CHECKS.items()
                },
            },
        },
    }


def schema_json() -> str:
    """The schema as the committed file's text."""
    return json.dumps(copy.deepcopy(scenario_schema()), ensure_ascii=False, indent=2) + "\n"


__all__ = ["REF", "scenario_schema", "schema_json"]
