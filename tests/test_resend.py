"""A client write sent again gets the first answer and changes nothing (issue 14, item 12).

A client that lost an answer sends the same supplering or innsending again; only a body
whose canonical form differs is a new write. Two copies sent at the same moment apply
once: the check runs inside the write transaction.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from flask import Flask
from sqlalchemy import func, select

from app.api.resend import REPLAY_HEADER
from app.store.db import get_session
from app.store.models import EventLog, JournalEntry
from tests.conftest import INNSENDING, LiveServer, Sandbox, at_once, basic
from tests.dibk_forms import filled, filled_json
from tests.test_dibk_forms import _saksnummer
from tests.test_supplering_completeness import Run, scenario_app  # noqa: F401


def _body(run: Run, answers: list[str]) -> dict[str, Any]:
    saksnummer = run.status()["saksnummer"]
    return {
        "innsendingReferanse": run.ref,
        "kommunensSaksnummer": {
            "saksaar": saksnummer["saksaar"],
            "sakssekvensnummer": saksnummer["sakssekvensnummer"],
        },
        "mangelbesvarelse": [{"mangelID": m} for m in answers],
    }


def _events(app: Flask, run_id: str, kind: str) -> int:
    with app.app_context():
        query = select(func.count()).where(EventLog.run_id == run_id, EventLog.kind == kind)
        return int(get_session().scalar(query) or 0)


def _posts(app: Flask, run_id: str) -> list[tuple[int, int | None, str | None]]:
    with app.app_context():
        query = (
            select(JournalEntry.id, JournalEntry.replay_of, JournalEntry.action)
            .where(JournalEntry.run_id == run_id, JournalEntry.method == "POST")
            .order_by(JournalEntry.id)
        )
        return [tuple(row) for row in get_session().execute(query)]  # type: ignore[misc]


def test_the_same_supplering_again_gets_the_first_answer_and_applies_nothing(
    scenario_app: Flask,  # noqa: F811
) -> None:
    run = Run(scenario_app)
    body = _body(run, run.mangler)
    first = run.http.post("/api/v1/supplering", json=body, headers=run.auth)
    again = run.http.post("/api/v1/supplering", json=body, headers=run.auth)
    assert first.status_code == again.status_code == 201, again.json
    assert again.data == first.data  # the same suppleringReferanse and mottattDato
    assert REPLAY_HEADER not in first.headers
    [(first_id, first_of, first_action), (_, replay_of, replay_action)] = _posts(
        scenario_app, run.id
    )
    assert (first_of, first_action) == (None, "supplering_mottatt")
    assert replay_action is None  # no second supplering for triggers to count
    assert again.headers[REPLAY_HEADER] == str(first_id) == str(replay_of)
    assert _events(scenario_app, run.id, "supplering") == 1
    run.advance("P1D")
    assert run.steps()["vedtak"] == "fired"
    assert len(run.oppdateringer("supplering")) == 1  # one komplett, not two
    assert len(run.oppdateringer("vedtak")) == 1


def test_the_same_supplering_spelled_differently_is_the_same_write(
    scenario_app: Flask,  # noqa: F811
) -> None:
    run = Run(scenario_app)
    body = _body(run, run.mangler)
    first = run.http.post("/api/v1/supplering", json=body, headers=run.auth)
    # Keys in another order, other whitespace: the API's schema reads the same body.
    text = json.dumps(dict(reversed(list(body.items()))), indent=4)
    headers = {**run.auth, "Content-Type": "application/json"}
    again = run.http.post("/api/v1/supplering", data=text, headers=headers)
    assert again.status_code == 201 and again.data == first.data
    assert again.headers[REPLAY_HEADER]
    assert _events(scenario_app, run.id, "supplering") == 1


def test_a_different_supplering_is_a_new_write(scenario_app: Flask) -> None:  # noqa: F811
    run = Run(scenario_app)
    first, second = run.mangler
    one = run.http.post("/api/v1/supplering", json=_body(run, [first]), headers=run.auth)
    two = run.http.post("/api/v1/supplering", json=_body(run, [second]), headers=run.auth)
    assert one.status_code == two.status_code == 201
    assert one.json["suppleringReferanse"] != two.json["suppleringReferanse"]  # type: ignore[index]
    assert REPLAY_HEADER not in two.headers
    assert _events(scenario_app, run.id, "supplering") == 2
    assert run.open_mangler() == []


def test_two_copies_sent_at_once_apply_once(scenario_app: Flask) -> None:  # noqa: F811
    run = Run(scenario_app)
    body = _body(run, run.mangler)
    with LiveServer(scenario_app) as server:

        def send() -> requests.Response:
            headers = {**run.auth, "Content-Type": "application/json"}
            return requests.post(
                f"{server.url}/api/v1/supplering",
                data=json.dumps(body),
                headers=headers,
                timeout=30,
            )

        answers = at_once(4, send)
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(REPLAY_HEADER in a.headers for a in answers) == 3
    assert _events(scenario_app, run.id, "supplering") == 1
    assert len(run.oppdateringer("supplering")) == 1


def test_two_different_suppleringer_sent_at_once_get_two_references(
    scenario_app: Flask,  # noqa: F811
) -> None:
    # One per mangel, sent together: both apply, each with its own suppleringReferanse
    # (the same one would tell the client its second write was the first sent again).
    run = Run(scenario_app)
    bodies = iter([_body(run, [mangel]) for mangel in run.mangler])
    with LiveServer(scenario_app) as server:

        def send() -> requests.Response:
            return requests.post(
                f"{server.url}/api/v1/supplering", json=next(bodies), headers=run.auth, timeout=30
            )

        answers = at_once(2, send)
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert not any(REPLAY_HEADER in a.headers for a in answers)
    references = {a.json()["suppleringReferanse"] for a in answers}
    assert len(references) == 2
    assert _events(scenario_app, run.id, "supplering") == 2
    case = run.http.get(f"/sandbox/runs/{run.id}/case").json
    assert {s["referanse"] for s in case["sak"]["suppleringer"]} == references  # type: ignore[index]
    assert run.open_mangler() == []


def test_the_same_innsending_again_registers_one_soknad(
    app: Flask, live_server: LiveServer, sandbox: Sandbox
) -> None:
    run = sandbox.create_run(seed=7, clock={"mode": "manual"})
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    url = f"{live_server.url}/api/v1/innsending"
    first = requests.post(url, json=INNSENDING, headers=auth, timeout=10)
    again = requests.post(url, json=INNSENDING, headers=auth, timeout=10)
    assert first.status_code == again.status_code == 201, again.text
    assert again.content == first.content
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers[REPLAY_HEADER]
    other = requests.post(url, json={**INNSENDING, "tittel": "Tilbygg"}, headers=auth, timeout=10)
    assert other.status_code == 201 and REPLAY_HEADER not in other.headers
    refs = {first.json()["innsendingReferanse"], other.json()["innsendingReferanse"]}
    assert len(refs) == 2
    assert _events(app, run["id"], "innsending") == 2


def test_the_same_xml_supplering_again_is_replayed_and_its_json_twin_too(
    scenario_app: Flask,  # noqa: F811
) -> None:
    run = Run(scenario_app)
    text = filled("su-v2.xml", run.mangler, _saksnummer(run)).encode("utf-8")
    headers = {**run.auth, "Content-Type": "application/xml"}
    first = run.http.post("/api/v1/supplering", data=text, headers=headers)
    again = run.http.post("/api/v1/supplering", data=text, headers=headers)
    assert first.status_code == again.status_code == 201, again.json
    assert again.data == first.data and again.headers[REPLAY_HEADER]
    # The same form in JSON reads the same: it is the same write, not a second answer.
    twin = filled_json("su-v2.json", run.mangler, _saksnummer(run))
    for svar in twin["utfallBesvarelse"]["utfallSvar"]:  # the two fixtures' one difference
        if svar.get("tittel") == "Kvittering for nabovarsling mangler":
            svar["tittel"] = "Nabovarsel mangler"
    json_again = run.http.post("/api/v1/supplering", json=twin, headers=run.auth)
    assert json_again.status_code == 201 and json_again.headers.get(REPLAY_HEADER)
    assert _events(scenario_app, run.id, "supplering") == 1
