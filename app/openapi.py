"""OpenAPI 3.1 for the simulated API and the control plane, built from the url map.

Every view under /api/v1 and /sandbox wears its operation (``app.openapi_docs``); this
module walks ``app.url_map``, turns Flask's ``<run_id>`` into ``{runId}`` with a declared
path parameter, adds security and the 401 that goes with it, and puts the marshmallow
schemas in the components. :func:`spec_gaps` says what the document misses.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app, jsonify
from werkzeug.routing import BaseConverter, Rule
from werkzeug.routing.converters import FloatConverter, IntegerConverter, UUIDConverter

from app.openapi_docs import ASSUMPTION, operation_of, problem
from app.openapi_examples import add_examples, event_component, event_union
from app.wire import inputs, outputs, tenant_outputs
from app.wire.inputs.soeknad import SoeknadSchema

bp = Blueprint("openapi", __name__)
PREFIXES = ("/api/v1/", "/sandbox/")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?([A-Za-z_][A-Za-z0-9_]*)>")
TEMPLATE = re.compile(r"{([^{}]+)}")
PATH_PARAMETERS = {
    "runId": "The run's id, as POST /sandbox/runs returned it.",
    "stepId": "The id of a step in the run's scenario timeline.",
    "scenarioId": "The id of a scenario in the library (GET /sandbox/scenarios).",
    "dokumentId": "The id of an outgoing document, from an oppdatering's dokument list.",
    "tenantName": "The tenant's name, as POST /sandbox/tenants was given it.",
}
DEFAULT_TAGS = {"/api/v1/": "DiBK saksbehandlingsdata", "/sandbox/": "Sandbox control plane"}
UNAUTHORISED = {
    "/api/v1/": problem("Missing or wrong HTTP Basic credentials"),
    "/sandbox/": problem("SANDBOX_ADMIN_TOKEN is set and the Bearer token is missing or wrong"),
}
FORGED = {
    "403": problem("Sent by a page of another site (Origin or Sec-Fetch-Site)"),
    "415": problem("A body declared as anything but application/json, even an empty one"),
}
COMPONENTS = (
    ("Kvittering", outputs.KvitteringOut),
    ("Oppdatering", outputs.OppdateringOut),
    ("Status", outputs.StatusOut),
    ("Problem", outputs.ProblemOut),
    ("Innsending", inputs.InnsendingSchema),
    ("Soeknad", SoeknadSchema),
    ("Supplering", inputs.SuppleringSchema),
    ("RunCreate", inputs.RunCreateSchema),
    ("ClockMove", inputs.ClockMoveSchema),
    ("TenantCreate", inputs.TenantCreateSchema),
    ("PasswordRotate", inputs.PasswordRotateSchema),
    ("NextScenario", inputs.NextScenarioSchema),
    ("Tenant", tenant_outputs.TenantOut),
    ("TenantList", tenant_outputs.TenantListOut),
    ("TenantRuns", tenant_outputs.TenantRunsOut),
)


def camel(name: str) -> str:
    """``run_id`` → ``runId``: Python's argument name as the document spells it."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def openapi_path(rule: str) -> str:
    """``/sandbox/runs/<run_id>`` → ``/sandbox/runs/{runId}``."""
    return PLACEHOLDER.sub(lambda m: "{" + camel(m.group(1)) + "}", rule)


def _schema(converter: BaseConverter) -> dict[str, Any]:
    if isinstance(converter, IntegerConverter):
        return {"type": "integer", "minimum": 0}
    if isinstance(converter, FloatConverter):
        return {"type": "number", "minimum": 0}
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    return {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


def path_parameters(rule: Rule) -> list[dict[str, Any]]:
    """The declared path parameters of ``rule``, in the order the URL names them."""
    converters: dict[str, BaseConverter] = rule._converters
    out = []
    for name in PLACEHOLDER.findall(rule.rule):
        param: dict[str, Any] = {
            "name": camel(name),
            "in": "path",
            "required": True,
            "schema": _schema(converters[name]),
        }
        if camel(name) in PATH_PARAMETERS:
            param["description"] = PATH_PARAMETERS[camel(name)]
        out.append(param)
    return out


def documented_rules(app: Flask) -> list[Rule]:
    """The url map's rules that belong in the document: the API and the control plane."""
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIXES) and rule.endpoint != "static"
    ]


def _methods(rule: Rule) -> list[str]:
    return sorted(m.lower() for m in (rule.methods or set()) - IGNORED_METHODS)


def _paths(app: Flask) -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    creators: list[tuple[dict[str, Any], str]] = []
    for rule in documented_rules(app):
        operation = operation_of(app.view_functions[rule.endpoint])
        if operation is None:
            continue  # spec_gaps reports it
        prefix = next(p for p in PREFIXES if rule.rule.startswith(p))
        methods = _methods(rule)
        for method in methods:
            body = operation.to_dict()
            body.setdefault("tags", [DEFAULT_TAGS[prefix]])
            body["operationId"] = rule.endpoint.replace(".", "_") + (
                f"_{method}" if len(methods) > 1 else ""
            )
            body["parameters"] = path_parameters(rule) + body.get("parameters", [])
            if not body["parameters"]:
                del body["parameters"]
            # The control plane asks for the token only when SANDBOX_ADMIN_TOKEN is set.
            body["security"] = (
                [{"adminBearer": []}, {}] if prefix == "/sandbox/" else [{"runBasic": []}]
            )
            body["responses"].setdefault("401", UNAUTHORISED[prefix])
            if prefix == "/sandbox/" and method not in ("get", "head"):
                for status, response in FORGED.items():  # app.web_security
                    body["responses"].setdefault(status, response)
            paths.setdefault(openapi_path(rule.rule), {})[method] = body
            if operation.creates:
                creators.append((body, operation.creates))
    for creator, param in creators:
        _link(creator, param, paths)
    return paths


def _link(creator: dict[str, Any], param: str, paths: dict[str, dict[str, Any]]) -> None:
    """Link ``creator``'s success response to each operation that takes ``param``."""
    status = next(s for s in creator["responses"] if s.startswith("2"))
    creator["responses"][status]["links"] = {
        operation["operationId"]: {
            "operationId": operation["operationId"],
            "parameters": {param: "$response.body#/id"},
        }
        for path, operations in paths.items()
        if "{" + param + "}" in path
        for operation in operations.values()
    }


def build_spec(app: Flask) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for ``app``."""
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
    spec.components.security_scheme(
        "adminBearer",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "SANDBOX_ADMIN_TOKEN; the control plane is open when it is not set.",
        },
    )
    for name, schema in COMPONENTS:
        spec.components.schema(name, schema=schema)
    for kind, event_schema in inputs.EVENT_SCHEMAS.items():
        spec.components.schema(event_component(kind), schema=event_schema)
    spec.components.schema("Event", event_union())
    for path, operations in _paths(app).items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    add_examples(document)
    return document


def spec_gaps(app: Flask, spec: dict[str, Any]) -> list[str]:
    """What ``spec`` misses of ``app``: undocumented routes, undeclared or stray parameters."""
    gaps = []
    paths = spec.get("paths", {})
    for rule in documented_rules(app):
        path = openapi_path(rule.rule)
        for method in _methods(rule):
            if method not in paths.get(path, {}):
                gaps.append(f"{method.upper()} {path} ({rule.endpoint}) is not documented")
    for path, operations in paths.items():
        placeholders = TEMPLATE.findall(path)
        for method, operation in operations.items():
            declared = [
                str(p.get("name"))
                for p in operation.get("parameters", [])
                if isinstance(p, dict) and p.get("in") == "path"
            ]
            if sorted(declared) != sorted(placeholders):
                gaps.append(
                    f"{method.upper()} {path} declares path parameters {declared}, "
                    f"its URL has {placeholders}"
                )
            for param in operation.get("parameters", []):
                if param.get("in") == "path" and (
                    param.get("required") is not True or "schema" not in param
                ):
                    gaps.append(
                        f"{method.upper()} {path}: path parameter {param.get('name')} "
                        "must be required and have a schema"
                    )
    return gaps


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """Serve the OpenAPI document (built once per app: the url map does not change)."""
    extensions = current_app.extensions
    if "sandbox.openapi" not in extensions:
        extensions["sandbox.openapi"] = build_spec(current_app)
    return jsonify(extensions["sandbox.openapi"])


def init_app(app: Flask) -> None:
    """Serve /openapi.json."""
    app.register_blueprint(bp)
