"""The authoring docs stay true: every schema key documented, the tutorial lints and plays."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from app.scenarios.loader import load_text
from app.scenarios.schema import scenario_schema
from tests.conftest import basic

DOCS = (Path(__file__).parents[1] / "docs" / "scenarios.md").read_text("utf-8")


def _keys(schema: dict[str, Any]) -> set[str]:
    keys: set[str] = set()
    for key, value in schema.get("properties", {}).items():
        keys.add(key)
        if isinstance(value, dict):
            if value.get("type") == "object" or "properties" in value:
                keys |= _keys(value)
            if isinstance(value.get("items"), dict):
                keys |= _keys(value["items"])
    return keys


def test_every_schema_key_is_documented() -> None:
    schema = scenario_schema()
    timeline = schema["properties"]["timeline"]["items"]
    # Event bodies are documented in wire-contract.md; everything else here.
    timeline = {
        **timeline,
        "properties": {k: v for k, v in timeline["properties"].items() if k != "event"},
    }
    keys = _keys(
        {**schema, "properties": {**schema["properties"], "timeline": {"items": timeline}}}
    )
    keys -= _keys(schema["properties"]["case"]["properties"]["innsendinger"]["items"]) - {
        "id",
        "innsendt_av",
    }
    missing = sorted(k for k in keys if f"`{k}`" not in DOCS)
    assert missing == []


def _tutorial() -> str:
    match = re.search(
        r"1\. Write `scenarios/dok-then-vedtak.yaml`:\n\n   ```yaml\n(.*?)   ```", DOCS, re.S
    )
    assert match is not None
    return "\n".join(line[3:] for line in match[1].splitlines()) + "\n"


def test_tutorial_scenario_lints_clean() -> None:
    loaded = load_text(_tutorial(), "dok-then-vedtak.yaml")
    assert loaded.ok, [str(p) for p in loaded.problems]


def test_tutorial_scenario_plays_as_described(app: Any, tmp_path: Path) -> None:
    from app import create_app

    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "dok-then-vedtak.yaml").write_text(_tutorial(), "utf-8")
    tutorial_app = create_app(
        {"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"], "SCENARIO_DIR": str(folder)}
    )
    client: FlaskClient = tutorial_app.test_client()
    try:
        run = client.post(
            "/sandbox/runs", json={"scenario": "dok-then-vedtak", "clock": {"mode": "manual"}}
        ).json
        assert run is not None
        auth = basic(run["credentials"]["username"], run["credentials"]["password"])
        ref = run["innsendingReferanser"][0]
        assert client.post(f"/sandbox/runs/{run['id']}/next").json["fired"] == ["journalfor"]  # type: ignore[index]
        assert client.post(f"/sandbox/runs/{run['id']}/next").json["fired"] == ["dok"]  # type: ignore[index]
        status = client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=auth).json
        assert status is not None
        [mangel] = status["mangler"]
        assert (
            mangel["tittel"] == "Dokumentasjon av bæreevne"
            and mangel["utfall"]["kodeverdi"] == "DOK"
        )
        answer = {
            "innsendingReferanse": ref,
            "kommunensSaksnummer": {
                k: status["saksnummer"][k] for k in ("saksaar", "sakssekvensnummer")
            },
            "mangelbesvarelse": [{"mangelID": mangel["mangelID"]}],
        }
        assert client.post("/api/v1/supplering", json=answer, headers=auth).status_code == 201
        nxt = client.post(f"/sandbox/runs/{run['id']}/next").json
        assert nxt["fired"] == ["vedtak"]  # type: ignore[index]
        # Answered Tue 4 March 09:00; two working days: Thu 6 March 09:00.
        assert nxt["now"] == "2025-03-06T09:00:00.000Z"  # type: ignore[index]
    finally:
        tutorial_app.extensions["sandbox.engine"].dispose()
