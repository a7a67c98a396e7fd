"""Hostile clients and forged requests: CSRF, security headers, sessions, failed logins, escaping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse

from app import create_app
from app.reports import markdown
from app.reports.html import SVG_STYLE
from app.store.auth_failures import tally_of
from app.store.db import get_session
from app.ui import session as ui_session
from tests.conftest import basic, csrf_form


def test_markdown_escapes_a_clients_values() -> None:
    hostile = "<script>alert(1)</script> | ![x](http://evil.invalid/x.png) `code` a\\|b\nnext"
    text = markdown.cell(hostile)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\n" not in text
    assert "](" not in text.replace("\\](", "") and "\\[x\\]" in text
    assert "\\`code\\`" in text
    # Every | is escaped, and a client's backslash cannot undo the escape.
    assert text.count("|") == text.count("\\|") == 2
    assert "a\\\\\\|b" in text
    assert markdown.cell(None) == "" and markdown.cell(0) == "0"


def test_the_markdown_report_escapes_a_clients_mangel_id(client: FlaskClient) -> None:
    created = client.post(
        "/sandbox/runs", json={"scenario": "mangel-then-vedtak", "clock": {"mode": "manual"}}
    )
    run: dict[str, Any] = created.json  # type: ignore[assignment]
    auth = basic(run["credentials"]["username"], run["credentials"]["password"])
    ref = run["innsendingReferanser"][0]
    for _ in range(2):  # journalføring, then the mangel
        assert client.post(f"/sandbox/runs/{run['id']}/next").status_code == 200
    status: dict[str, Any] = client.get(
        f"/api/v1/status?innsendingReferanse={ref}", headers=auth
    ).json  # type: ignore[assignment]
    hostile = "<script>alert(1)</script>|![x](http://evil.invalid/x.png)"
    answer = client.post(
        "/api/v1/supplering",
        json={
            "innsendingReferanse": ref,
            "kommunensSaksnummer": {
                k: status["saksnummer"][k] for k in ("saksaar", "sakssekvensnummer")
            },
            "mangelbesvarelse": [{"mangelID": hostile, "kommentar": "Vedlagt."}],
        },
        headers=auth,
    )
    assert answer.status_code == 400
    assert answer.json["errors"][0]["rule"] == "supplering.mangelID.ukjent"  # type: ignore[index]
    assert client.post(f"/sandbox/runs/{run['id']}/finish").status_code == 200
    report = client.get(f"/sandbox/runs/{run['id']}/report?format=markdown")
    assert report.status_code == 200 and report.mimetype == "text/markdown"
    text = report.get_data(as_text=True)
    assert "<script>" not in text and "](" not in text.replace("\\](", "")
    assert (
        "got '&lt;script&gt;alert(1)&lt;/script&gt;\\|!\\[x\\](http://evil.invalid/x.png)'" in text
    )


def test_the_sqlite_file_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sandbox.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}"})
    client = app.test_client()
    assert client.post("/sandbox/runs", json={}).status_code == 201
    engine = app.extensions["sandbox.engine"]
    with engine.connect() as connection:  # WAL and shared memory exist while it is open
        connection.exec_driver_sql("SELECT count(*) FROM runs")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {
            f.name: 0o600 for f in files
        }
    engine.dispose()


POISONING = """\
id: poisoning
version: 1
title: A run whose username someone else knows
description: A step waits for the client's third poll.
profile: utkast-2022
seed: 14
clock: {start: "2025-03-03T08:00:00Z"}
case:
  kommunenummer: "3201"
  innsendinger:
    - id: soknad
      soknadstype: TA
      tiltakstype: [pabygg]
      tittel: Påbygg
      dokumenter: [{dokumentNavn: Skjema.pdf, mimeType: application/pdf, dokumentStorrelse: "88000"}]
timeline:
  - id: journalfor
    trigger: {at: PT1H}
    event: {type: journalfor}
  - id: etter-tre-polls
    trigger: {on: poll, count: 3}
    event: {type: tildel_saksbehandler}
expect:
  - id: henter-kvittering
    request: {method: GET, path: /api/v1/kvittering}
    count: {min: 1}
"""


@pytest.fixture
def poisoning_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app whose library is the one scenario above."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "poisoning.yaml").write_text(POISONING, "utf-8")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SCENARIO_DIR": str(folder)})
    yield app
    app.extensions["sandbox.engine"].dispose()


def _run_state(client: FlaskClient, run_id: str) -> dict[str, Any]:
    result = client.get(f"/sandbox/runs/{run_id}/result").json
    assert result is not None
    return {
        "journal": client.get(f"/sandbox/runs/{run_id}/journal").json,
        "verdicts": result["verdicts"],
        "timeline": client.get(f"/sandbox/runs/{run_id}/timeline").json,
        "journalCount": client.get(f"/sandbox/runs/{run_id}").json["journalCount"],  # type: ignore[index]
    }


def _wsgi_call(
    app: Flask, method: str, path: str, headers: dict[str, str], body: Any = None
) -> Callable[[], int]:
    """A request made ready once and sent straight to the WSGI app: the test client's own
    work would be most of the time of a flood."""
    environ = EnvironBuilder(method=method, path=path, headers=headers, json=body).get_environ()
    raw = json.dumps(body).encode() if body is not None else b""

    def call() -> int:
        started: list[str] = []
        answer = app(
            {**environ, "wsgi.input": io.BytesIO(raw)}, lambda s, h, e=None: started.append(s)
        )
        b"".join(answer)
        getattr(answer, "close", lambda: None)()
        return int(started[0][:3])

    return call


def test_ten_thousand_wrong_passwords_change_nothing_in_the_run(poisoning_app: Flask) -> None:
    client = poisoning_app.test_client()
    created = client.post(
        "/sandbox/runs", json={"scenario": "poisoning", "clock": {"mode": "manual"}}
    )
    assert created.status_code == 201, created.json
    run: dict[str, Any] = created.json  # type: ignore[assignment]
    username, password = run["credentials"]["username"], run["credentials"]["password"]
    ref = run["innsendingReferanser"][0]
    assert (
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "PT2H"}).status_code == 200
    )
    good = basic(username, password)
    assert (
        client.get(f"/api/v1/kvittering?innsendingReferanse={ref}", headers=good).status_code == 200
    )
    before = _run_state(client, run["id"])

    bad = basic(username, "not-the-password")
    answer = client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=bad)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Basic ")
    assert answer.json == {
        "title": "Mangler gyldig autentisering",
        "status": 401,
        "detail": "Feil brukernavn eller passord.",
        "errors": [
            {
                "rule": "autentisering",
                "field": "Authorization",
                "message": "Feil brukernavn eller passord.",
                "messagetype": "ERROR",
            }
        ],
    }
    calls = [
        _wsgi_call(poisoning_app, "GET", f"/api/v1/kvittering?innsendingReferanse={ref}", bad),
        _wsgi_call(poisoning_app, "GET", f"/api/v1/oppdatering?innsendingReferanse={ref}", bad),
        _wsgi_call(poisoning_app, "GET", f"/api/v1/status?innsendingReferanse={ref}", bad),
        _wsgi_call(poisoning_app, "POST", "/api/v1/supplering", bad, {"innsendingReferanse": ref}),
        _wsgi_call(poisoning_app, "GET", "/api/v1/mangel", bad),  # no view: answered 404
    ]
    started = time.perf_counter()
    statuses = Counter(calls[n % len(calls)]() for n in range(9_999))
    elapsed = time.perf_counter() - started
    assert statuses == {401: 8_000, 404: 1_999}
    poisoning_app.extensions["sandbox.auth_failures"].flush()

    assert _run_state(client, run["id"]) == before
    with poisoning_app.app_context():
        tally = tally_of(get_session(), run["id"])
    assert tally is not None and tally["count"] == 10_000
    # Newest first: the flood ended with supplering (9,998) and the status poll (9,997).
    assert [a["path"] for a in tally["recent"]][:2] == ["/api/v1/supplering", "/api/v1/status"]
    # The flood was written in a few batches, not one write per request.
    assert poisoning_app.extensions["sandbox.auth_failures"].get().batches < elapsed / 0.1 + 5
    # The run's own client goes on as before: its second and third polls fire the step.
    for _ in range(2):
        assert (
            client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=good).status_code == 200
        )
    steps = {
        s["id"]: s["status"]
        for s in client.get(f"/sandbox/runs/{run['id']}/timeline").json["steps"]
    }  # type: ignore[index]
    assert steps["etter-tre-polls"] == "fired"


# CSRF on the UI's forms, and the Origin check


def _manual_run(client: FlaskClient) -> str:
    created = client.post(
        "/sandbox/runs", json={"scenario": "happy-path", "clock": {"mode": "manual"}}
    )
    assert created.status_code == 201, created.json
    return str(created.json["id"])  # type: ignore[index]


def _status(client: FlaskClient, run_id: str) -> tuple[str, str]:
    run = client.get(f"/sandbox/runs/{run_id}").json
    assert run is not None
    return run["status"], run["clock"]["now"]


@pytest.mark.parametrize("action", ["next", "advance", "finish"])
def test_a_ui_form_without_its_sessions_token_is_refused(client: FlaskClient, action: str) -> None:
    run_id = _manual_run(client)
    before = _status(client, run_id)
    url = f"/ui/runs/{run_id}/{action}"
    csrf_form(client)  # this browser has a session
    stranger = client.application.test_client()  # another browser: another session
    for answer, message in (
        (client.post(url, data={"duration": "P10D"}), "lacks a valid CSRF token"),
        (client.post(url, data=csrf_form(stranger, duration="P10D")), "valid CSRF token"),
        (
            stranger.application.test_client().post(url, data={}),
            "session has expired or is missing",
        ),
        (
            client.post(
                url,
                data=csrf_form(client, duration="P10D"),
                headers={"Origin": "http://evil.invalid"},
            ),
            "sent from another site",
        ),
        (
            client.post(url, data=csrf_form(client, duration="P10D"), headers={"Origin": "null"}),
            "sent from another site",
        ),
        (
            client.post(
                url,
                data=csrf_form(client, duration="P10D"),
                headers={"Sec-Fetch-Site": "cross-site"},
            ),
            "sent from another site",
        ),
    ):
        assert answer.status_code == 403 and answer.mimetype == "text/html"
        assert message in answer.get_data(as_text=True)
    assert _status(client, run_id) == before
    # The same form with its token, from the sandbox's own page, goes through.
    same_origin = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    answer = client.post(url, data=csrf_form(client, duration="P10D"), headers=same_origin)
    assert answer.status_code == 303 and _status(client, run_id) != before


def test_a_forged_start_form_creates_no_run(client: FlaskClient) -> None:
    form = {"scenario": "happy-path", "clock": "manual"}
    answer = client.post("/ui/runs", data=form, headers={"Origin": "http://evil.invalid"})
    assert answer.status_code == 403
    assert client.post("/ui/runs", data=form).status_code == 403
    assert client.get("/sandbox/runs").json["runs"] == []  # type: ignore[index]
    assert client.post("/ui/runs", data=csrf_form(client, **form)).status_code == 303


def test_the_login_form_needs_its_token_too(app: Flask) -> None:
    app.config["ADMIN_TOKEN"] = "hemmelig"
    client = app.test_client()
    refused = client.post("/ui/login", data={"token": "hemmelig"})
    assert refused.status_code == 403
    assert "session has expired or is missing" in refused.get_data(as_text=True)
    page = client.get("/ui/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert token is not None
    # The login page's session is not a logged-in one.
    assert client.get("/ui/runs").status_code == 302
    answer = client.post("/ui/login", data={"token": "hemmelig", "csrf_token": token.group(1)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/ui/"
    assert client.get("/ui/runs").status_code == 200


# The control plane: JSON bodies only, and no other site's pages


def test_control_plane_writes_refuse_other_origins_and_form_bodies(client: FlaskClient) -> None:
    run_id = _manual_run(client)
    before = _status(client, run_id)
    forged = [
        ("/sandbox/runs", {"data": {"scenario": "happy-path"}}, 415, "body.innholdstype"),
        ("/sandbox/runs", {"data": b"", "content_type": "text/plain"}, 415, "body.innholdstype"),
        (f"/sandbox/runs/{run_id}/finish", {"data": {"x": "1"}}, 415, "body.innholdstype"),
        (
            f"/sandbox/runs/{run_id}/clock",
            {"data": '{"advance": "P10D"}', "content_type": "text/plain"},
            415,
            "body.innholdstype",
        ),
        (
            "/sandbox/runs",
            {"json": {}, "headers": {"Origin": "http://evil.invalid"}},
            403,
            "origin.fremmed",
        ),
        (f"/sandbox/runs/{run_id}/next", {"headers": {"Origin": "null"}}, 403, "origin.fremmed"),
        (
            f"/sandbox/runs/{run_id}/clock",
            {"json": {"advance": "P10D"}, "headers": {"Sec-Fetch-Site": "cross-site"}},
            403,
            "origin.fremmed",
        ),
    ]
    for path, args, status, rule in forged:
        answer = client.post(path, **args)  # type: ignore[arg-type]
        assert answer.status_code == status, (path, args, answer.json)
        assert answer.mimetype == "application/problem+json"
        assert answer.json is not None and answer.json["status"] == status
        assert answer.json["errors"][0]["rule"] == rule
    deleted = client.delete(f"/sandbox/runs/{run_id}", headers={"Origin": "http://evil.invalid"})
    assert deleted.status_code == 403
    assert _status(client, run_id) == before
    assert len(client.get("/sandbox/runs").json["runs"]) == 1  # type: ignore[index]
    # The CLI's and curl's calls: JSON, or no body at all; the sandbox's own origin is fine.
    assert client.post("/sandbox/runs").status_code == 201
    assert client.post(f"/sandbox/runs/{run_id}/next").status_code == 200
    own = {"Origin": "http://localhost"}
    assert (
        client.post(
            f"/sandbox/runs/{run_id}/clock", json={"advance": "P1D"}, headers=own
        ).status_code
        == 200
    )
    # Reading stays open to any origin.
    assert client.get("/sandbox/runs", headers={"Origin": "http://evil.invalid"}).status_code == 200


def test_base_url_names_the_sandboxs_own_origin(app: Flask) -> None:
    app.config["BASE_URL"] = "https://sandbox.example.org"
    client = app.test_client()
    own = {"Origin": "https://sandbox.example.org"}
    assert client.post("/sandbox/runs", json={}, headers=own).status_code == 201
    other = {"Origin": "https://example.org"}
    assert client.post("/sandbox/runs", json={}, headers=other).status_code == 403


# Security headers


def test_every_html_page_has_the_security_headers(client: FlaskClient) -> None:
    run_id = _manual_run(client)
    pages = {
        "/ui/": "ui",
        "/ui/runs": "ui",
        f"/ui/runs/{run_id}": "ui",
        f"/ui/runs/{run_id}/live": "ui",
        "/ui/scenarios/happy-path": "ui",
        "/ui/scenarios/no-such": "ui",
        f"/ui/runs/{run_id}/report.html": "document",
        f"/sandbox/runs/{run_id}/report?format=html": "document",
    }
    for path, kind in pages.items():
        answer = client.get(path)
        assert answer.mimetype == "text/html", path
        headers = answer.headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy, path
        if kind == "ui":
            assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, path
        else:
            assert "default-src 'none'" in policy and "script-src" not in policy, path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
    assert client.get("/sandbox/runs").headers["X-Content-Type-Options"] == "nosniff"
    # The simulated API's answers are the wire the client is scored on: left as they were.
    api = client.get("/api/v1/status?innsendingReferanse=AR1")
    assert api.status_code == 401
    assert not {"Content-Security-Policy", "X-Content-Type-Options"} & set(api.headers.keys())


def test_the_svg_style_is_the_one_the_policy_allows(client: FlaskClient) -> None:
    run_id = _manual_run(client)
    page = client.get(f"/ui/runs/{run_id}")
    styles = re.findall(r"<style>(.*?)</style>", page.get_data(as_text=True))
    assert styles == [SVG_STYLE]
    digest = base64.b64encode(hashlib.sha256(SVG_STYLE.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["Content-Security-Policy"]
    assert 'style="' not in page.get_data(as_text=True)


# The session cookie


def _cookie(answer: TestResponse) -> str:
    [header] = [
        v for v in answer.headers.getlist("Set-Cookie") if v.startswith("byggesak_sandbox_ui=")
    ]
    return header


def test_the_session_cookie_expires_and_is_secure_behind_https(app: Flask) -> None:
    app.config["ADMIN_TOKEN"] = "hemmelig"
    client = app.test_client()
    cookie = _cookie(client.get("/ui/login"))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie
    assert "Max-Age=43200" in cookie and "Expires=" in cookie and "Secure" not in cookie
    secure = app.test_client()
    page = secure.get("/ui/login", base_url="https://sandbox.example.org")
    assert "Secure" in _cookie(page)
    app.config["BASE_URL"] = "https://sandbox.example.org"  # TLS ends at a proxy in front
    assert "Secure" in _cookie(app.test_client().get("/ui/login"))


def test_a_session_ends_when_it_expires_or_the_token_changes(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["ADMIN_TOKEN"] = "hemmelig"
    client = app.test_client()
    login = client.post("/ui/login", data=csrf_form_of_login(client, token="hemmelig"))
    assert login.status_code == 302 and "Max-Age=43200" in _cookie(login)
    assert client.get("/ui/runs").status_code == 200
    # The cookie of before, a fixed HMAC of the token, no longer opens anything.
    fixed = hmac.new(b"hemmelig", b"byggesak-sandbox-ui", hashlib.sha256).hexdigest()
    old = app.test_client()
    old.set_cookie("byggesak_sandbox_ui", fixed, path="/ui")
    assert old.get("/ui/runs").status_code == 302
    # Tampered cookies: the login page's session turned into a logged-in one, or made
    # to last longer.
    visitor = app.test_client()
    visitor.get("/ui/login")
    value = visitor.get_cookie("byggesak_sandbox_ui", path="/ui")
    assert value is not None
    sid, expires, kind, signature = value.value.split(".")
    assert kind == "o" and visitor.get("/ui/runs").status_code == 302
    for tampered in (f"{sid}.{expires}.a.{signature}", f"{sid}.{int(expires) + 9}.o.{signature}"):
        visitor.set_cookie("byggesak_sandbox_ui", tampered, path="/ui")
        assert visitor.get("/ui/runs").status_code == 302
        assert visitor.post("/ui/runs", data={"csrf_token": "0"}).status_code == 302
    later = time.time() + 12 * 3600 + 1
    monkeypatch.setattr(ui_session.time, "time", lambda: later)
    expired = client.get("/ui/runs")
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/ui/login")
    monkeypatch.undo()
    assert client.get("/ui/runs").status_code == 200
    app.config["ADMIN_TOKEN"] = "ny-nøkkel"
    assert client.get("/ui/runs").status_code == 302


def csrf_form_of_login(client: FlaskClient, **fields: str) -> dict[str, str]:
    """The login form's fields with the token of the login page's session."""
    page = client.get("/ui/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None
    return {**fields, "csrf_token": found.group(1)}


# Failed logins on the run page


def test_the_run_page_shows_failed_logins(app: Flask, client: FlaskClient) -> None:
    created = client.post("/sandbox/runs", json={})
    run: dict[str, Any] = created.json  # type: ignore[assignment]
    page = client.get(f"/ui/runs/{run['id']}").get_data(as_text=True)
    assert 'id="auth-failures"' not in page
    bad = basic(run["credentials"]["username"], "gjett")
    for path in ("/api/v1/status?innsendingReferanse=AR1", "/api/v1/kvittering?x=<b>"):
        assert client.get(path, headers=bad).status_code == 401
    app.extensions["sandbox.auth_failures"].flush()
    page = client.get(f"/ui/runs/{run['id']}").get_data(as_text=True)
    assert "2 requests with this username and a wrong password" in page
    assert "<code>GET /api/v1/kvittering</code> from 127.0.0.1" in page
    assert page.index("/api/v1/kvittering") < page.index("/api/v1/status")  # newest first
    # The tally goes with its run.
    assert client.delete(f"/sandbox/runs/{run['id']}").status_code == 204
    with app.app_context():
        assert tally_of(get_session(), run["id"]) is None
