"""Answers kept for polls: given again only while they are still the answer, and journalled."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.api.kept_answers import KeptAnswers
from app.store.db import get_session
from app.store.models import JournalEntry
from tests.conftest import basic


def _kept(app: Flask) -> KeptAnswers:
    kept: KeptAnswers = app.extensions["sandbox.kept_answers"]
    return kept


def _run(client: FlaskClient, **body: Any) -> tuple[str, dict[str, str], str]:
    run_id, auth, ref, _username = _named_run(client, **body)
    return run_id, auth, ref


def _named_run(client: FlaskClient, **body: Any) -> tuple[str, dict[str, str], str, str]:
    run = client.post("/sandbox/runs", json={"scenario": "happy-path", **body}).json
    assert run is not None
    username = run["credentials"]["username"]
    auth = basic(username, run["credentials"]["password"])
    return run["id"], auth, run["innsendingReferanser"][0], username


def _journal(client: FlaskClient, run_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get(f"/sandbox/runs/{run_id}/journal").json["entries"]  # type: ignore[index]
    return entries


def test_a_repeated_poll_gets_the_same_answer_and_its_own_journal_entry(app: Flask) -> None:
    client = app.test_client()
    run_id, auth, ref = _run(client, clock={"mode": "manual"})
    client.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "PT2H"})  # journalført
    url = f"/api/v1/kvittering?innsendingReferanse={ref}"
    answers = [client.get(url, headers={**auth, "X-Request-Id": f"poll-{n}"}) for n in range(3)]
    assert _kept(app).given == 2  # the first went through Flask, the next two did not
    first = answers[0]
    assert first.status_code == 200 and first.json is not None
    for again in answers[1:]:
        assert again.status == first.status
        assert again.headers.to_wsgi_list() == first.headers.to_wsgi_list()
        assert again.data == first.data
    entries = _journal(client, run_id)
    assert len(entries) == 3
    for n, entry in enumerate(entries):
        # Each exchange is journalled with its own request headers and times...
        assert entry["request"]["headers"]["X-Request-Id"] == f"poll-{n}"
        assert entry["request"]["headers"]["Authorization"].endswith(":***")
        # ... and the same answer as the first.
        assert entry["response"] == entries[0]["response"]
        assert entry["request"]["query"] == entries[0]["request"]["query"]
    # What scoring counts comes with every one of them.
    with app.app_context():
        rows = get_session().execute(
            select(JournalEntry.action, JournalEntry.fault).where(JournalEntry.run_id == run_id)
        )
        assert [tuple(row) for row in rows] == [("kvittering_hentet", None)] * 3


def test_a_changed_run_or_other_credentials_are_answered_afresh(app: Flask) -> None:
    client = app.test_client()
    run_id, auth, ref, username = _named_run(client, clock={"mode": "manual"})
    url = f"/api/v1/oppdatering?innsendingReferanse={ref}"
    assert client.get(url, headers=auth).json == []
    assert client.get(url, headers=auth).json == []
    assert _kept(app).given == 1
    # A hand-applied event bumps the version: the kept [] is no longer the answer.
    client.post(f"/sandbox/runs/{run_id}/events", json={"type": "journalfor"})
    client.post(f"/sandbox/runs/{run_id}/events", json={"type": "vedtak", "resultat": "avslag"})
    seen = client.get(url, headers=auth).json
    assert seen and seen[-1]["vedtak"]["resultat"] == "avslag"
    assert _kept(app).given == 1
    # The same user with a wrong password is a different request, refused by Flask.
    assert client.get(url, headers=basic(username, "wrong")).status_code == 401
    # Another path is not this answer either.
    assert client.get(url + "&etter=0", headers=auth).json == seen
    assert _kept(app).given == 1


def test_a_step_falling_due_on_a_moving_clock_ends_the_kept_answer(app: Flask) -> None:
    # A week a second: the vedtak (P3W) falls due three seconds in, with no write to the run
    # before it; the kept answer must give way to Flask, which fires the step.
    client = app.test_client()
    _run_id, auth, ref = _run(client, clock={"mode": "accelerated", "factor": 604800})
    url = f"/api/v1/oppdatering?innsendingReferanse={ref}"
    deadline = time.monotonic() + 10
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        seen = client.get(url, headers=auth).json or []
        if any("vedtak" in item for item in seen):
            break
        time.sleep(0.02)
    assert any("vedtak" in item for item in seen)
    assert _kept(app).given > 10  # polls before the vedtak were answered from memory


def test_runs_whose_answers_move_on_each_request_are_never_kept(app: Flask) -> None:
    client = app.test_client()
    # A clock that moves on each poll, and a scenario whose faults count requests.
    for body in (
        {"clock": {"mode": "on_poll", "step": "PT30M"}},
        {"scenario": "late-caseworker", "clock": {"mode": "manual"}},
    ):
        run_id, auth, ref = _run(client, **body)
        client.post(f"/sandbox/runs/{run_id}/clock", json={"advance": "PT2H"})
        for _ in range(3):
            assert client.get(f"/api/v1/kvittering?innsendingReferanse={ref}", headers=auth)
    assert _kept(app).given == 0


def test_kept_answers_can_be_switched_off(database_url: str) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "KEEP_ANSWERS": "off"})
    try:
        client = app.test_client()
        run_id, auth, ref = _run(client, clock={"mode": "manual"})
        for _ in range(3):
            assert (
                client.get(f"/api/v1/oppdatering?innsendingReferanse={ref}", headers=auth).json
                == []
            )
        assert "sandbox.kept_answers" not in app.extensions
        assert len(_journal(client, run_id)) == 3
    finally:
        app.extensions["sandbox.engine"].dispose()
