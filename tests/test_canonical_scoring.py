"""One reading of client input: the journal keeps the canonical body the API loaded, and
every matcher and check reads it; a document fetched after it expired is reported as such."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from app.scenarios.model import Expectation, RequestMatcher, Scenario
from app.scoring import checks, verdicts
from app.scoring.evidence import Exchange, expectations, gather
from app.store.db import build_engine, create_tables
from app.store.models import Run
from app.vocabulary import DEFAULT_CHECKS, PROTOCOL_CHECKS
from app.wire.inputs.canonical import canonical
from tests.conftest import INNSENDING, basic
from tests.dibk_forms import pascal

START = "2025-03-03T08:00:00Z"

ANY = Expectation(id="any")  # the checks read the run, not their expectation


def _run_with_mangel(client: FlaskClient, innsending: dict[str, Any]) -> dict[str, Any]:
    """A run whose client submitted ``innsending``, journalført, with one open mangel."""
    run = client.post(
        "/sandbox/runs", json={"kommunenummer": "4601", "clock": {"mode": "manual", "start": START}}
    ).get_json()
    auth = basic(**run["credentials"])
    submitted = client.post("/api/v1/innsending", json=innsending, headers=auth)
    assert submitted.status_code == 201, submitted.get_json()
    ref = submitted.get_json()["innsendingReferanse"]
    base = f"/sandbox/runs/{run['id']}"
    assert client.post(f"{base}/events", json={"type": "journalfor"}).status_code == 201
    mangel = {
        "type": "mangel",
        "mangler": [{"sjekkpunktId": "1.73", "utfall": "MG", "tittel": "Situasjonsplan mangler"}],
    }
    assert client.post(f"{base}/events", json=mangel).status_code == 201
    status = client.get("/api/v1/status", query_string={"innsendingReferanse": ref}, headers=auth)
    [open_mangel] = status.get_json()["mangler"]
    saksnummer = status.get_json()["saksnummer"]
    return {
        "id": run["id"],
        "auth": auth,
        "ref": ref,
        "mangelID": open_mangel["mangelID"],
        "saksnummer": {k: saksnummer[k] for k in ("saksaar", "sakssekvensnummer")},
        "dokumenter": status.get_json()["utgaaendeDokument"],
    }


def _supplering(case: dict[str, Any], mangel_key: str = "mangelID") -> dict[str, Any]:
    return {
        "innsendingReferanse": case["ref"],
        "kommunensSaksnummer": case["saksnummer"],
        "mangelbesvarelse": [{mangel_key: case["mangelID"], "kommentar": "Vedlagt."}],
    }


def _v2(case: dict[str, Any], *svar: dict[str, Any]) -> dict[str, Any]:
    """A Supplering av søknad v2 body for the case's innsending with these utfallSvar."""
    return {
        "innsendingReferanse": case["ref"],
        "kommunensSaksnummer": case["saksnummer"],
        "utfallBesvarelse": {"utfallSvar": list(svar)},
    }


def _scored(app: Flask, run_id: str) -> tuple[Any, list[Exchange]]:
    with app.app_context():
        session = app.extensions["sandbox.db"]()
        try:
            run = session.get(Run, run_id)
            assert run is not None
            facts = gather(session, run)
        finally:
            session.close()
    posts = [e for e in facts.exchanges if e.method == "POST" and e.path == "/api/v1/supplering"]
    return facts, posts


def test_every_documented_spelling_loads_to_one_canonical_body() -> None:
    body = {
        "innsendingReferanse": "AR12345678",
        "kommunensSaksnummer": {"saksaar": "2025", "sakssekvensnummer": "47"},
        "mangelbesvarelse": [{"mangelID": "m-1", "kommentar": "Vedlagt."}],
    }
    spelled = _supplering_spellings(body)
    forms = [canonical("POST", "/api/v1/supplering", b) for b in spelled]
    assert forms[0] is not None and answer(forms[0])["utfallId"] == "m-1"
    assert all(form == forms[0] for form in forms)
    # The path is routed case-insensitively, and what the schema refuses has no canonical form.
    assert canonical("POST", "/api/v1/Supplering", body) == forms[0]
    assert canonical("POST", "/api/v1/supplering", {**body, "mangelbesvarelse": "x"}) is None


def answer(form: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = form["utfallBesvarelse"]["utfallSvar"][0]
    return first


def _supplering_spellings(body: dict[str, Any]) -> list[dict[str, Any]]:
    with_id = {
        **body,
        "mangelbesvarelse": [
            {"mangelId": m["mangelID"], "kommentar": m["kommentar"]}
            for m in body["mangelbesvarelse"]
        ],
    }
    return [body, pascal(body), with_id, pascal(with_id)]


def test_a_pascal_case_supplering_scores_as_the_camel_case_one(
    app: Flask, client: FlaskClient
) -> None:
    case = _run_with_mangel(client, pascal(INNSENDING))
    sent = client.post("/api/v1/supplering", json=pascal(_supplering(case)), headers=case["auth"])
    assert sent.status_code == 201, sent.get_json()

    journal = client.get(f"/sandbox/runs/{case['id']}/journal").get_json()["entries"]
    [entry] = [e for e in journal if e["request"]["path"] == "/api/v1/supplering"]
    assert '"Mangelbesvarelse"' in entry["request"]["body"]  # the raw body, as sent
    stored = entry["request"]["canonicalBody"]
    assert f'"utfallId": "{case["mangelID"]}"' in stored
    assert f'"innsendingReferanse": "{case["ref"]}"' in stored

    facts, [exchange] = _scored(app, case["id"])
    assert exchange.reference() == case["ref"]
    assert checks.CHECKS["echoes_mangel_ids"](facts, ANY).ok is True
    assert checks.CHECKS["uses_current_saksnummer"](facts, ANY).ok is True
    matcher = RequestMatcher(
        method="POST",
        path="/api/v1/supplering",
        body={
            "innsendingReferanse": case["ref"],
            "mangelbesvarelse.0.mangelID": "${mangelID}",
            "kommunensSaksnummer.sakssekvensnummer": "${saksnummer.sakssekvensnummer}",
        },
    )
    assert verdicts.mismatch(facts, exchange, matcher) is None
    [innsending] = [e for e in facts.exchanges if e.path == "/api/v1/innsending"]
    rs = RequestMatcher(body={"soknadstype": "RS"})
    assert verdicts.mismatch(facts, innsending, rs) is None


def test_mangel_id_spelled_mangelId_scores_as_mangelID(app: Flask, client: FlaskClient) -> None:
    case = _run_with_mangel(client, INNSENDING)
    body = _supplering(case, mangel_key="mangelId")
    assert client.post("/api/v1/supplering", json=body, headers=case["auth"]).status_code == 201
    facts, [exchange] = _scored(app, case["id"])
    outcome = checks.CHECKS["echoes_mangel_ids"](facts, ANY)
    assert outcome.ok is True, outcome.first_divergence
    matcher = RequestMatcher(body={"mangelbesvarelse.0.mangelID": "${mangelID}"})
    assert verdicts.mismatch(facts, exchange, matcher) is None


def test_a_document_fetched_after_it_expired_is_too_late_with_evidence(
    client: FlaskClient,
) -> None:
    case = _run_with_mangel(client, INNSENDING)
    [letter] = case["dokumenter"]
    moved = client.post(f"/sandbox/runs/{case['id']}/clock", json={"advance": "P31D"})
    assert moved.status_code == 200
    path = "/api/v1/dokument/" + letter["dokumentUrl"].rsplit("/", 1)[1]
    assert client.get(path, headers=case["auth"]).status_code == 410
    # A live run's checks are pending; a finished one's are decided.
    assert client.post(f"/sandbox/runs/{case['id']}/finish").status_code == 200

    result = client.get(f"/sandbox/runs/{case['id']}/result").get_json()
    [verdict] = [v for v in result["verdicts"] if v["id"] == "downloads_documents"]
    assert verdict["status"] == "FAILED"
    assert "too late" in verdict["reason"]
    assert re.search(
        r"first fetched it 2025-04-03T.*, too late \(exchange \d+ answered 410\)",
        verdict["firstDivergence"],
    )
    assert "never fetched" not in verdict["firstDivergence"]
    [late] = verdict["evidence"]
    assert result["evidence"][str(late)]["request"]["path"] == path
    assert result["evidence"][str(late)]["response"]["status"] == 410


def test_default_checks_run_on_every_run_and_say_when_they_did_not_apply(
    client: FlaskClient,
) -> None:
    case = _run_with_mangel(client, INNSENDING)
    assert client.post(f"/sandbox/runs/{case['id']}/finish").status_code == 200
    result = client.get(f"/sandbox/runs/{case['id']}/result").get_json()
    by_id = {v["id"]: v for v in result["verdicts"]}
    assert all(by_id[name]["optional"] for name in DEFAULT_CHECKS)
    assert set(DEFAULT_CHECKS) <= set(by_id)
    assert {PROTOCOL_CHECKS[name].severity for name in DEFAULT_CHECKS} == {"must", "should"}
    assert by_id["uses_cursor"]["severity"] == "should"
    # No 429 or 503, no unknown field: skipped, each saying why; never passed for want of it.
    for name in ("tolerates_unknown_fields", "tolerates_list_metadata"):
        assert by_id[name]["status"] == "SKIPPED"
        assert "did not apply" in by_id[name]["reason"]


def test_a_scenario_tunes_turns_off_or_replaces_a_default_check() -> None:
    scenario = {
        "expect": [{"id": "poller-fornuftig", "check": "polls_sanely", "severity": "should"}],
        "checks": {
            "backs_off": {"enabled": False},
            "uses_cursor": {"severity": "must", "weight": 2},
            "echoes_mangel_ids": {"enabled": True},
        },
    }
    listed = {e.id: e for e in expectations(Scenario.from_json(scenario))}
    assert "backs_off" not in listed and "polls_sanely" not in listed
    assert listed["poller-fornuftig"].severity == "should"
    assert (listed["uses_cursor"].severity, listed["uses_cursor"].weight) == ("must", 2)
    assert listed["echoes_mangel_ids"].check == "echoes_mangel_ids"
    # A default run may be left undecided; a check the scenario switched on may not.
    assert listed["uses_cursor"].optional and not listed["echoes_mangel_ids"].optional
    assert "picks_up_all_oppdateringer" not in listed  # not a default, not asked for
    assert list(listed)[0] == "poller-fornuftig"  # the scenario's own come first


def test_an_older_database_gets_the_canonical_column(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_tables(engine)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE journal DROP COLUMN request_body_canonical"))
    assert "request_body_canonical" not in {
        c["name"] for c in inspect(engine).get_columns("journal")
    }
    create_tables(engine)
    assert "request_body_canonical" in {c["name"] for c in inspect(engine).get_columns("journal")}
    create_tables(engine)  # and again: nothing left to add
    engine.dispose()


def test_a_mangel_echoed_as_answered_later_or_not_answered_is_not_answered(
    app: Flask, client: FlaskClient
) -> None:
    # Found by a client written from our docs alone: both echoed the mangelID and passed,
    # though the kommune kept waiting and the vedtak never came.
    case = _run_with_mangel(client, INNSENDING)
    later = {
        **_supplering(case),
        "mangelbesvarelse": [{"mangelID": case["mangelID"], "erUtfallBesvaresSenere": True}],
    }
    assert client.post("/api/v1/supplering", json=later, headers=case["auth"]).status_code == 201
    nothing = _v2(case, {"utfallId": case["mangelID"], "erUtfallBesvart": False})
    sent = client.post("/api/v1/supplering", json=nothing, headers=case["auth"])
    assert sent.status_code == 201, sent.get_json()
    facts, _posts = _scored(app, case["id"])
    found = checks.CHECKS["echoes_mangel_ids"](facts, ANY)
    assert found.ok is False and "declared answered later" in found.reason, found.reason
    answered = client.post("/api/v1/supplering", json=_supplering(case), headers=case["auth"])
    assert answered.status_code == 201
    facts, _posts = _scored(app, case["id"])
    found = checks.CHECKS["echoes_mangel_ids"](facts, ANY)
    assert found.ok is True, found.first_divergence


def test_a_mangel_only_said_not_answered_was_never_answered(
    app: Flask, client: FlaskClient
) -> None:
    case = _run_with_mangel(client, INNSENDING)
    nothing = _v2(case, {"utfallId": case["mangelID"], "erUtfallBesvart": False})
    assert client.post("/api/v1/supplering", json=nothing, headers=case["auth"]).status_code == 201
    facts, _posts = _scored(app, case["id"])
    found = checks.CHECKS["echoes_mangel_ids"](facts, ANY)
    assert found.ok is False and "never answered" in found.reason, found.reason


@pytest.mark.parametrize("first", [{"erUtfallBesvart": False}, {"erUtfallBesvaresSenere": True}])
def test_an_utfall_answered_twice_in_one_form_is_read_as_its_first_utfallsvar(
    app: Flask, client: FlaskClient, first: dict[str, Any]
) -> None:
    # Found by a client written from our docs alone: the API reads the first utfallSvar of
    # an utfallId (the mangel stays open), the checks read the second and passed the run.
    case = _run_with_mangel(client, INNSENDING)
    twice = _v2(
        case,
        {"utfallId": case["mangelID"], **first},
        {"utfallId": case["mangelID"], "erUtfallBesvart": True, "kommentar": "Vedlagt."},
    )
    sent = client.post("/api/v1/supplering", json=twice, headers=case["auth"])
    assert sent.status_code == 201 and "står flere ganger" in str(sent.get_json()["advarsler"])
    facts, _posts = _scored(app, case["id"])
    for check in ("echoes_mangel_ids", "answers_every_utfall"):
        found = checks.CHECKS[check](facts, ANY)
        assert found.ok is False, (check, found.reason)


def test_a_zero_padded_saksnummer_is_the_same_number(app: Flask, client: FlaskClient) -> None:
    # Found by a client written from our docs alone: "05713" was refused as a number the
    # case never had; DiBK's forms type it as an integer.
    case = _run_with_mangel(client, INNSENDING)
    number = case["saksnummer"]
    padded = {**number, "sakssekvensnummer": "00" + str(number["sakssekvensnummer"])}
    body = {**_supplering(case), "kommunensSaksnummer": padded}
    sent = client.post("/api/v1/supplering", json=body, headers=case["auth"])
    assert sent.status_code == 201, sent.get_json()
    facts, _posts = _scored(app, case["id"])
    found = checks.CHECKS["uses_current_saksnummer"](facts, ANY)
    assert found.ok is True, found.first_divergence
