"""A tenant's søknad sent again (issue 17): within the window the first answer and no new
run, after it a new søknad with a run of its own; two copies at once start one run."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import limits
from app.api.resend import REPLAY_HEADER
from app.store.db import get_session
from app.store.models import JournalEntry, Run, TenantSoknad
from tests.conftest import INNSENDING, LiveServer, at_once, basic
from tests.dibk_forms import FIXTURES
from tests.test_tenants import PASSWORD, make_tenant, submit, tenant_body

SOKNAD = {"tittel": "Garasje [sandbox:mangel-then-vedtak]"}


def runs(app: Flask) -> list[Run]:
    """Every run, oldest first."""
    with app.app_context():
        return list(get_session().scalars(select(Run).order_by(Run.created_at)).all())


def test_sent_again_within_the_window_is_the_first_answer(app: Flask, client: FlaskClient) -> None:
    make_tenant(client)
    first = submit(client, "acme-staging", PASSWORD, **SOKNAD)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert REPLAY_HEADER not in first.headers
    # The same søknad spelled otherwise (key order, whitespace) is the same canonical body.
    spelled = client.post(
        "/api/v1/innsending",
        data=json.dumps({**SOKNAD, **INNSENDING, **SOKNAD}, indent=2, sort_keys=True),
        headers={**basic("acme-staging", PASSWORD), "Content-Type": "application/json"},
    )
    for again in (submit(client, "acme-staging", PASSWORD, **SOKNAD), spelled):
        assert again.status_code == 201, again.get_data(as_text=True)
        assert again.data == first.data  # byte for byte
        assert again.headers["Location"] == first.headers["Location"]
        assert again.headers[REPLAY_HEADER]
    (run,) = runs(app)
    with app.app_context():
        entries = (
            get_session()
            .scalars(
                select(JournalEntry).where(JournalEntry.run_id == run.id).order_by(JournalEntry.id)
            )
            .all()
        )
        innsendinger = [e for e in entries if e.path == "/api/v1/innsending"]
        first_id = innsendinger[0].id
        assert [e.replay_of for e in innsendinger] == [None, first_id, first_id]
    other = submit(client, "acme-staging", PASSWORD, tittel="Garasje nr. 2")
    assert other.status_code == 201 and REPLAY_HEADER not in other.headers
    assert len(runs(app)) == 2  # another body is another søknad


def test_after_the_window_it_is_a_new_soknad(app: Flask, client: FlaskClient) -> None:
    make_tenant(client)
    first = submit(client, "acme-staging", PASSWORD, **SOKNAD).get_json()
    with app.app_context():
        session = get_session()
        aged = limits.TENANT_RESEND_WINDOW + timedelta(seconds=1)
        for claim in session.scalars(select(TenantSoknad)).all():
            claim.received_at -= aged
        session.commit()
    later = submit(client, "acme-staging", PASSWORD, **SOKNAD)
    assert later.status_code == 201 and REPLAY_HEADER not in later.headers
    assert later.get_json()["innsendingReferanse"] != first["innsendingReferanse"]
    assert [r.scenario_id for r in runs(app)] == ["mangel-then-vedtak"] * 2
    again = submit(client, "acme-staging", PASSWORD, **SOKNAD)  # within the new window
    assert again.data == later.data and again.headers[REPLAY_HEADER]
    assert len(runs(app)) == 2


def test_another_tenants_same_soknad_is_its_own(app: Flask, client: FlaskClient) -> None:
    make_tenant(client)
    make_tenant(client, name="bravo", username="bravo-staging")
    mine = submit(client, "acme-staging", PASSWORD, **SOKNAD)
    theirs = submit(client, "bravo-staging", PASSWORD, **SOKNAD)
    assert REPLAY_HEADER not in theirs.headers
    assert theirs.get_json()["innsendingReferanse"] != mine.get_json()["innsendingReferanse"]
    assert sorted(r.tenant or "" for r in runs(app)) == ["acme", "bravo"]


def test_a_refused_soknad_claims_nothing(app: Flask, client: FlaskClient) -> None:
    make_tenant(client)
    form = (FIXTURES / "rs-v4.xml").read_text("utf-8").replace("Prøvevegen<", "[sandbox:nope]<")
    headers = {**basic("acme-staging", PASSWORD), "Content-Type": "application/xml"}
    for _ in range(2):
        refused = client.post("/api/v1/innsending", data=form.encode(), headers=headers)
        assert refused.status_code == 400 and REPLAY_HEADER not in refused.headers
    taken = client.post(
        "/api/v1/innsending", data=form.replace("nope", "happy-path").encode(), headers=headers
    )
    assert taken.status_code == 201
    with app.app_context():
        assert len(get_session().scalars(select(TenantSoknad)).all()) == 1
    assert len(runs(app)) == 1


def test_two_copies_sent_at_once_start_one_run(app: Flask, live_server: LiveServer) -> None:
    made = requests.post(f"{live_server.url}/sandbox/tenants", json=tenant_body(), timeout=10)
    assert made.status_code == 201, made.text

    def send() -> requests.Response:
        return requests.post(
            f"{live_server.url}/api/v1/innsending",
            json={**INNSENDING, **SOKNAD},
            auth=("acme-staging", PASSWORD),
            timeout=30,
        )

    answers = at_once(4, send)
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(REPLAY_HEADER not in a.headers for a in answers) == 1
    (run,) = runs(app)
    body: dict[str, Any] = answers[0].json()
    with app.app_context():
        refs = [
            i["innsendingReferanse"] for i in get_session().get(Run, run.id).state["innsendinger"]
        ]
    assert refs == [body["innsendingReferanse"]]
