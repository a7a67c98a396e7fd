"""/openapi.json: every route documented from its view, path parameters declared, valid 3.1."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from app import create_app
from app import openapi_examples as examples
from app.openapi import build_spec, camel, documented_rules, openapi_path, spec_gaps
from app.openapi_docs import doc
from app.vocabulary import QUERY_NAMES
from app.wire import inputs, outputs
from tests.conftest import INNSENDING

UNKNOWN_RUN = "run-000000000000"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    """The document as the sandbox serves it."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_route_is_documented_with_its_path_parameters(
    app: Flask, spec: dict[str, Any]
) -> None:
    assert spec_gaps(app, spec) == []
    # The check looked at what matters: the API, the control plane, with placeholders.
    paths = {openapi_path(rule.rule) for rule in documented_rules(app)}
    assert {"/api/v1/kvittering", "/sandbox/runs/{runId}/steps/{stepId}/fire"} <= paths
    assert "/api/v1/dokument/{dokumentId}" in paths and "/sandbox/scenarios/{scenarioId}" in paths
    assert not any(p.startswith(("/ui", "/openapi", "/healthz")) for p in paths)


def test_the_api_query_names_are_the_vocabularys(spec: dict[str, Any]) -> None:
    # The middleware binds these names whatever their casing; a name documented but not
    # listed would be refused when spelled another way.
    declared = {
        parameter["name"]
        for path, _method, operation in _operations(spec)
        if path.startswith("/api/v1/")
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }
    assert declared == set(QUERY_NAMES)


def test_the_check_reports_an_undocumented_route_and_a_stray_parameter() -> None:
    incomplete = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    extra = Blueprint("extra", __name__)

    @extra.get("/sandbox/things/<thing_id>")
    def undocumented(thing_id: str) -> Any:
        return jsonify(thing_id)

    @extra.post("/api/v1/ghost")
    @doc(
        "Declares a path parameter its URL does not have",
        parameters=[{"name": "ghostId", "in": "path", "required": True, "schema": {}}],
        responses={"200": "ok"},
    )
    def ghost() -> Any:
        return jsonify(None)

    incomplete.register_blueprint(extra)
    try:
        gaps = spec_gaps(incomplete, build_spec(incomplete))
        served = incomplete.test_client().get("/openapi.json").json
    finally:
        incomplete.extensions["sandbox.engine"].dispose()
    assert gaps == [
        "GET /sandbox/things/{thingId} (extra.undocumented) is not documented",
        "POST /api/v1/ghost declares path parameters ['ghostId'], its URL has []",
    ]
    # The served document is this app's own, from its url map.
    assert served is not None and "/api/v1/ghost" in served["paths"]
    assert "/sandbox/things/{thingId}" not in served["paths"]


def test_the_check_reports_an_undeclared_or_optional_path_parameter(
    app: Flask, spec: dict[str, Any]
) -> None:
    fire = spec["paths"]["/sandbox/runs/{runId}/steps/{stepId}/fire"]["post"]
    fire["parameters"] = [p for p in fire["parameters"] if p["name"] != "stepId"]
    dokument = spec["paths"]["/api/v1/dokument/{dokumentId}"]["get"]
    dokument["parameters"][0]["required"] = False
    assert spec_gaps(app, spec) == [
        "GET /api/v1/dokument/{dokumentId}: path parameter dokumentId must be required "
        "and have a schema",
        "POST /sandbox/runs/{runId}/steps/{stepId}/fire declares path parameters ['runId'], "
        "its URL has ['runId', 'stepId']",
    ]


def test_declared_path_parameters_match_the_url_placeholders(
    app: Flask, spec: dict[str, Any]
) -> None:
    checked = 0
    for rule in documented_rules(app):
        placeholders = [camel(n) for n in re.findall(r"<(?:[^<>:]+:)?(\w+)>", rule.rule)]
        path = openapi_path(rule.rule)
        assert re.findall(r"{(\w+)}", path) == placeholders
        for method in rule.methods or ():
            if method in ("HEAD", "OPTIONS"):
                continue
            declared = [
                p
                for p in spec["paths"][path][method.lower()].get("parameters", [])
                if p["in"] == "path"
            ]
            assert [p["name"] for p in declared] == placeholders, path
            for param in declared:
                assert param["required"] is True and param["schema"]["type"] == "string"
                assert param["description"]
            checked += bool(placeholders)
    assert checked == 19  # every operation on a run, a step, a scenario, a document or a tenant


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # raises on any schema violation
    operation_ids = [op["operationId"] for _p, _m, op in _operations(spec)]
    assert len(operation_ids) == len(set(operation_ids)) == 29


def test_existing_content_is_kept(spec: dict[str, Any]) -> None:
    assert set(spec["components"]["schemas"]) >= {
        "Kvittering",
        "Oppdatering",
        "Status",
        "Problem",
        "Innsending",
        "Supplering",
        "RunCreate",
        "ClockMove",
        "Event",
    }
    assumed = {path for path, _m, op in _operations(spec) if op.get("x-sandbox-assumption") is True}
    assert assumed == {
        "/api/v1/oppdatering",
        "/api/v1/status",
        "/api/v1/innsending",
        "/api/v1/supplering",
    }
    kvittering = spec["paths"]["/api/v1/kvittering"]["get"]
    assert kvittering["description"].startswith("DiBK fact")
    assert kvittering["tags"] == ["DiBK saksbehandlingsdata"]
    assert kvittering["parameters"][0]["name"] == "innsendingReferanse"
    events = spec["paths"]["/sandbox/runs/{runId}/events"]["post"]
    assert "journalfor" in events["description"]
    assert events["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Event"
    }
    for path, _method, operation in _operations(spec):
        expected = [{"adminBearer": []}, {}] if path.startswith("/sandbox") else [{"runBasic": []}]
        assert operation["security"] == expected, path
        assert operation["tags"] and operation["summary"], path


def test_errors_are_declared_where_views_give_them(spec: dict[str, Any]) -> None:
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        if "{runId}" in path or "{scenarioId}" in path or "{dokumentId}" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                media = response["content"]["application/problem+json"]
                assert media["schema"] == {"$ref": "#/components/schemas/Problem"}
    for path in ("/sandbox/runs/{runId}/events", "/sandbox/runs/{runId}/steps/{stepId}/fire"):
        assert "409" in spec["paths"][path]["post"]["responses"]
    assert "400" in spec["paths"]["/sandbox/runs/{runId}/journal"]["get"]["responses"]
    assert "400" in spec["paths"]["/sandbox/runs/{runId}/report"]["get"]["responses"]


def _call(client: FlaskClient, method: str, path: str, run_id: str, **kwargs: Any) -> int:
    url = re.sub(r"{\w+}", lambda m: run_id if m.group() == "{runId}" else "nope", path)
    return client.open(url, method=method.upper(), **kwargs).status_code


def test_what_the_sandbox_answers_is_declared(client: FlaskClient, spec: dict[str, Any]) -> None:
    """Unknown ids, no credentials, bodies that are not JSON: each answer is in the document."""
    run = client.post("/sandbox/runs", json={"innsending": INNSENDING}).json
    assert run is not None
    seen = set()
    for path, method, operation in _operations(spec):
        declared = set(operation["responses"])
        attempts: list[tuple[str, dict[str, Any]]] = [(UNKNOWN_RUN, {})]
        if method != "delete":
            attempts.append((run["id"], {}))
        if "requestBody" in operation:
            attempts.append((run["id"], {"data": "x", "content_type": "text/plain"}))
            attempts.append((run["id"], {"json": [1]}))
        for run_id, kwargs in attempts:
            status = _call(client, method, path, run_id, **kwargs)
            assert str(status) in declared, (method, path, run_id, kwargs, status)
            seen.add(status)
    assert {200, 201, 400, 401, 404, 415} <= seen
    journal = spec["paths"]["/sandbox/runs/{runId}/journal"]["get"]["responses"]
    for query in ("limit=0", "limit=lots", "etter=-1"):
        response = client.get(f"/sandbox/runs/{run['id']}/journal?{query}")
        assert response.status_code == 400 and "400" in journal, query


def test_creating_a_run_links_to_every_operation_on_it(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    links = spec["paths"]["/sandbox/runs"]["post"]["responses"]["201"]["links"]
    on_a_run = {
        op["operationId"]: (path, method)
        for path, method, op in _operations(spec)
        if "{runId}" in path
    }
    assert set(links) == set(on_a_run) and len(links) == 12
    run = client.post("/sandbox/runs", json={}).json
    assert run is not None
    for link in links.values():
        assert link["parameters"] == {"runId": "$response.body#/id"}
        path, method = on_a_run[link["operationId"]]
        if method == "get" and path.count("{") == 1:
            url = path.replace("{runId}", run[link["parameters"]["runId"].rsplit("/", 1)[1]])
            assert client.get(url).status_code == 200, url


def test_the_examples_are_what_the_schemas_accept(spec: dict[str, Any]) -> None:
    assert outputs.KvitteringOut().validate(examples.KVITTERING) == {}
    assert inputs.InnsendingSchema().validate(examples.INNSENDING) == {}
    assert inputs.SuppleringSchema().validate(examples.SUPPLERING) == {}
    assert set(examples.EVENTS) == set(inputs.EVENT_SCHEMAS)
    for example in examples.EVENTS.values():
        inputs.load_event(example, "SUP-1")  # raises on an example the schema refuses
    event = spec["components"]["schemas"]["Event"]
    assert event["discriminator"]["propertyName"] == "type"
    assert len(event["oneOf"]) == len(examples.EVENTS)
    body = spec["paths"]["/sandbox/runs/{runId}/events"]["post"]["requestBody"]
    assert set(body["content"]["application/json"]["examples"]) == set(examples.EVENTS)
