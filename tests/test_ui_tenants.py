"""A tenant's login in the UI: its own credentials show its runs and nothing else; the pick for
its next søknad; the sign-in limit."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from app import create_app, limits
from app.store.db import build_engine, create_tables
from tests.conftest import INNSENDING, LiveServer, basic

PASSWORD = "acme-staging-secret-1"
ADMIN = {"Authorization": "Bearer tok"}


def _token(client: FlaskClient) -> str:
    page = client.get("/ui/tenant/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None, page
    return found.group(1)


def test_a_tenant_sees_its_runs_only_and_no_admin_page(tmp_path: Path) -> None:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/u.db", "ADMIN_TOKEN": "tok"}
    )
    api = app.test_client()
    refs = {}
    for name in ("acme", "bravo"):
        body = {"name": name, "password": PASSWORD, "scenario": "happy-path"}
        assert api.post("/sandbox/tenants", json=body, headers=ADMIN).status_code == 201
        made = api.post("/api/v1/innsending", json=INNSENDING, headers=basic(name, PASSWORD))
        refs[name] = made.get_json()["innsendingReferanse"]
    browser = app.test_client()
    assert browser.get("/ui/tenant").status_code == 302  # no session yet: to the login
    forged = browser.post("/ui/tenant/login", data={"username": "acme", "password": PASSWORD})
    assert forged.status_code == 403  # no CSRF token
    token = _token(browser)
    wrong = browser.post(
        "/ui/tenant/login", data={"username": "acme", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    signed_in = browser.post(
        "/ui/tenant/login", data={"username": "acme", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    page = browser.get("/ui/tenant")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert refs["acme"] in text and refs["bravo"] not in text and "happy-path" in text
    # The tenant's session is no admin's: every other page asks for the token.
    for path in ("/ui/", "/ui/runs"):
        answer = browser.get(path)
        assert answer.status_code == 302 and "/ui/login" in answer.headers["Location"], path
    app.extensions["sandbox.auth_failures"].flush()
    with app.app_context():
        from app.store.auth_failures import tenant_tally_of
        from app.store.db import get_session

        tally = tenant_tally_of(get_session(), "acme")
        assert tally is not None and tally["count"] == 1
    app.extensions["sandbox.engine"].dispose()


ACME = basic("acme", PASSWORD)
BRAVO = basic("bravo", PASSWORD)
CLEAN = "Kjøringen {} finnes ikke."
SENT_AT_ONCE = 4
WINDOW = 3  # seconds: long enough for the failures of a test to fall in one window


@pytest.fixture
def tenant_app(database_url: str) -> Iterator[Flask]:
    """An app with an admin token, tenants acme and bravo, and a sign-in window of seconds."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "ADMIN_TOKEN": "tok",
            "LOGIN_WINDOW_SECONDS": WINDOW,
        }
    )
    api = app.test_client()
    for name in ("acme", "bravo"):
        body = {"name": name, "password": PASSWORD, "scenario": "happy-path"}
        assert api.post("/sandbox/tenants", json=body, headers=ADMIN).status_code == 201
    yield app
    app.extensions["sandbox.engine"].dispose()


def _submit(app: Flask, auth: dict[str, str], tittel: str = "Enebolig") -> str:
    made = app.test_client().post(
        "/api/v1/innsending", json={**INNSENDING, "tittel": tittel}, headers=auth
    )
    assert made.status_code in (200, 201), made.get_json()
    return str(made.get_json()["innsendingReferanse"])


def _runs_of(app: Flask, name: str) -> list[dict[str, Any]]:
    listed = app.test_client().get(f"/sandbox/tenants/{name}/runs", headers=ADMIN).get_json()
    return list(listed["runs"])


def _signed_in(app: Flask, name: str, password: str = PASSWORD) -> FlaskClient:
    browser = app.test_client()
    answer = browser.post(
        "/ui/tenant/login",
        data={"username": name, "password": password, "csrf_token": _token(browser)},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return browser


def test_a_tenants_run_pages_show_its_runs_and_no_others(tenant_app: Flask) -> None:
    _submit(tenant_app, ACME)
    _submit(tenant_app, BRAVO)
    own = _runs_of(tenant_app, "acme")[0]["id"]
    others = _runs_of(tenant_app, "bravo")[0]["id"]
    plain = tenant_app.test_client().post("/sandbox/runs", json={}, headers=ADMIN).get_json()["id"]
    browser = _signed_in(tenant_app, "acme")
    listing = browser.get("/ui/tenant").get_data(as_text=True)
    assert f'href="/ui/tenant/runs/{own}"' in listing and others not in listing

    page = browser.get(f"/ui/tenant/runs/{own}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for shown in ('id="timeline"', 'id="verdicts"', "PENDING", "Finish and score now", "expires"):
        assert shown in text, shown
    assert 'id="next-event"' not in text and "/ui/runs/" not in text  # no admin controls
    assert browser.get(f"/ui/tenant/runs/{own}/live").status_code == 200
    assert "Exchanges of" in browser.get(f"/ui/tenant/runs/{own}/exchanges").get_data(as_text=True)
    for fmt in ("json", "junit", "html", "markdown"):
        assert browser.get(f"/ui/tenant/runs/{own}/report.{fmt}").status_code == 200, fmt
    assert browser.get(f"/ui/tenant/runs/{own}/report.pdf").status_code == 404

    # Another tenant's run and a run of no tenant are as unknown as a run that does not exist.
    token = _token(browser)
    for run_id in (others, plain, "run-0000000000"):
        for suffix in ("", "/live", "/exchanges", "/report.json"):
            answer = browser.get(f"/ui/tenant/runs/{run_id}{suffix}")
            assert answer.status_code == 404, (run_id, suffix)
            assert CLEAN.format(run_id) in answer.get_data(as_text=True)
        refused = browser.post(f"/ui/tenant/runs/{run_id}/finish", data={"csrf_token": token})
        assert refused.status_code == 404
    assert _runs_of(tenant_app, "bravo")[0]["status"] == "active"
    # The tenant's session still opens no admin page.
    for path in (f"/ui/runs/{own}", f"/ui/runs/{own}/live", "/ui/tenants", "/ui/runs"):
        answer = browser.get(path)
        assert answer.status_code == 302 and "/ui/login" in answer.headers["Location"], path
    for path in (f"/ui/runs/{own}/finish", "/ui/tenants/acme/next"):
        answer = browser.post(path, data={"scenario": "samling", "csrf_token": token})
        assert answer.status_code == 302 and "/ui/login" in answer.headers["Location"], path
    assert _runs_of(tenant_app, "acme")[0]["status"] == "active"
    # And no session at all opens no tenant page.
    assert tenant_app.test_client().get(f"/ui/tenant/runs/{own}").status_code == 302


def test_finish_and_score_now_needs_the_csrf_token(tenant_app: Flask) -> None:
    _submit(tenant_app, ACME)
    run_id = _runs_of(tenant_app, "acme")[0]["id"]
    browser = _signed_in(tenant_app, "acme")
    forged = browser.post(f"/ui/tenant/runs/{run_id}/finish")
    assert forged.status_code == 403 and "CSRF" in forged.get_data(as_text=True)
    assert _runs_of(tenant_app, "acme")[0]["status"] == "active"
    done = browser.post(f"/ui/tenant/runs/{run_id}/finish", data={"csrf_token": _token(browser)})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/tenant/runs/{run_id}")
    assert _runs_of(tenant_app, "acme")[0]["status"] == "finished"
    text = browser.get(f"/ui/tenant/runs/{run_id}").get_data(as_text=True)
    assert "This run is finished" in text and "Not final" not in text


def test_the_next_soknad_plays_the_pick_once_and_a_marker_still_wins(tenant_app: Flask) -> None:
    api = tenant_app.test_client()
    unknown = api.put("/sandbox/tenants/acme/next", json={"scenario": "nope"}, headers=ACME)
    assert unknown.status_code == 400
    assert "happy-path" in unknown.get_json()["detail"]
    assert "mangel-then-vedtak" in unknown.get_json()["detail"]
    # Another tenant's credentials: as unknown as a tenant that does not exist.
    body = {"scenario": "samling"}
    assert api.put("/sandbox/tenants/acme/next", json=body, headers=BRAVO).status_code == 404
    assert api.put("/sandbox/tenants/acme/next", json=body).status_code == 401
    picked = api.put("/sandbox/tenants/acme/next", json=body, headers=ACME)
    assert picked.status_code == 200 and picked.get_json()["next"] == "samling"
    # A marker wins, and leaves the pick for the next søknad.
    _submit(tenant_app, ACME, "Garasje [sandbox:late-caseworker]")
    assert api.get("/sandbox/tenants/acme", headers=ADMIN).get_json()["next"] == "samling"
    _submit(tenant_app, ACME)  # plays the pick, which is then gone
    assert api.get("/sandbox/tenants/acme", headers=ADMIN).get_json()["next"] is None
    _submit(tenant_app, ACME, "Tilbygg")  # the default again (another søknad, not a resend)
    played = [r["scenario"] for r in reversed(_runs_of(tenant_app, "acme"))]
    assert played == ["late-caseworker", "samling", "happy-path"]

    # The admin picks with its token; the tenant and the admin pick in the UI too.
    body = {"scenario": "splitting"}
    assert api.put("/sandbox/tenants/bravo/next", json=body, headers=ADMIN).status_code == 200
    cleared = api.put("/sandbox/tenants/bravo/next", json={"scenario": None}, headers=BRAVO)
    assert cleared.status_code == 200 and cleared.get_json()["next"] is None
    browser = _signed_in(tenant_app, "acme")
    token = _token(browser)
    assert browser.post("/ui/tenant/next", data={"scenario": "splitting"}).status_code == 403
    answer = browser.post("/ui/tenant/next", data={"scenario": "splitting", "csrf_token": token})
    assert answer.status_code == 303
    assert "Picked: <strong" in browser.get("/ui/tenant").get_data(as_text=True)
    bad = browser.post("/ui/tenant/next", data={"scenario": "nope", "csrf_token": token})
    assert bad.status_code == 400 and "happy-path" in bad.get_data(as_text=True)
    admin = tenant_app.test_client()
    admin.post("/ui/login", data={"token": "tok", "csrf_token": _token(admin)})
    page = admin.get("/ui/tenants").get_data(as_text=True)
    assert 'id="tenant-acme"' in page and 'id="tenant-bravo"' in page
    token = _token(admin)
    answer = admin.post("/ui/tenants/bravo/next", data={"scenario": "samling", "csrf_token": token})
    assert answer.status_code == 303
    assert api.get("/sandbox/tenants/bravo", headers=ADMIN).get_json()["next"] == "samling"
    assert api.get("/sandbox/tenants/acme", headers=ADMIN).get_json()["next"] == "splitting"


def test_a_refused_soknad_gives_the_pick_back(tenant_app: Flask) -> None:
    from app.config import engine_config
    from app.engine import tenants
    from app.scenarios.registry import get_registry
    from app.store.db import get_session

    body = {"scenario": "samling"}
    assert (
        tenant_app.test_client()
        .put("/sandbox/tenants/acme/next", json=body, headers=ADMIN)
        .status_code
        == 200
    )
    with tenant_app.test_request_context("/api/v1/innsending", method="POST"):
        session = get_session()
        tenant = tenants.tenant_or_404(session, "acme")
        known = get_registry().catalogue().entries
        data = dict(INNSENDING)
        assert tenants.choose_scenario(tenant, data, known) == "samling"
        run, _ref = tenants.start_tenant_run(
            session, engine_config(), tenant, known["samling"].scenario, data
        )
        session.expire_all()
        assert tenants.tenant_or_404(session, "acme").next_scenario is None  # taken with the run
        tenants.discard_run(session, run.id)
        session.expire_all()
        assert tenants.tenant_or_404(session, "acme").next_scenario == "samling"


def _from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_sign_ins_are_limited_per_username_and_per_address(tenant_app: Flask) -> None:
    browser = tenant_app.test_client()
    token = _token(browser)
    wrong = {"username": "acme", "password": "not-the-password", "csrf_token": token}
    for _ in range(limits.LOGIN_FAILURES_PER_USERNAME):
        assert browser.post("/ui/tenant/login", data=wrong).status_code == 401
    right = {**wrong, "password": PASSWORD}
    refused = browser.post("/ui/tenant/login", data=right)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= WINDOW
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    # Another username from the same address signs in as usual.
    _signed_in(tenant_app, "bravo")
    time.sleep(wait + 0.1)  # the window (LOGIN_WINDOW_SECONDS) is over
    assert browser.post("/ui/tenant/login", data=right).status_code == 302

    # The admin's sign-in counts by address: another address is let in.
    here = _from(tenant_app, "192.0.2.7")
    token = _token(here)
    for _ in range(limits.LOGIN_FAILURES_PER_ADDRESS):
        assert "Wrong" in here.post("/ui/login", data={"token": "x", "csrf_token": token}).text
    blocked = here.post("/ui/login", data={"token": "tok", "csrf_token": token})
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= WINDOW
    there = _from(tenant_app, "192.0.2.8")
    assert (
        there.post("/ui/login", data={"token": "tok", "csrf_token": _token(there)}).status_code
        == 302
    )


def test_of_soknader_sent_at_once_one_plays_the_pick(app: Flask, live_server: LiveServer) -> None:
    control = app.test_client()
    body = {"name": "acme", "password": PASSWORD, "scenario": "happy-path"}
    assert control.post("/sandbox/tenants", json=body).status_code == 201
    assert (
        control.put("/sandbox/tenants/acme/next", json={"scenario": "samling"}).status_code == 200
    )
    start = threading.Barrier(SENT_AT_ONCE)

    def send(n: int) -> int:
        start.wait()
        sent = requests.post(
            f"{live_server.url}/api/v1/innsending",
            json={**INNSENDING, "tittel": f"Søknad {n}"},
            auth=("acme", PASSWORD),
            timeout=60,
        )
        return sent.status_code

    with ThreadPoolExecutor(SENT_AT_ONCE) as pool:
        statuses = list(pool.map(send, range(SENT_AT_ONCE)))
    assert set(statuses) <= {200, 201}, statuses
    played = [r["scenario"] for r in control.get("/sandbox/tenants/acme/runs").get_json()["runs"]]
    assert sorted(played) == ["happy-path"] * (SENT_AT_ONCE - 1) + ["samling"]
    assert control.get("/sandbox/tenants/acme").get_json()["next"] is None


def test_an_older_database_gets_the_next_scenario_column(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'old.db'}")
    create_tables(engine)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE tenants DROP COLUMN next_scenario"))
    create_tables(engine)
    assert "next_scenario" in {c["name"] for c in inspect(engine).get_columns("tenants")}
    engine.dispose()
