"""The journal: every exchange on the simulated API, redacted, capped per run and per body."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app import create_app
from app.store.auth_failures import tally_of
from app.store.db import get_session
from tests.conftest import INNSENDING, basic


def _app(database_url: str, **config: Any) -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": database_url, **config})


def test_journal_keeps_at_most_the_cap_newest_first(database_url: str) -> None:
    app = _app(database_url, JOURNAL_MAX_ENTRIES=20)
    client = app.test_client()
    try:
        run = client.post("/sandbox/runs", json={"innsending": INNSENDING}).json
        assert run is not None
        auth = basic(run["credentials"]["username"], run["credentials"]["password"])
        ref = run["innsendingReferanser"][0]
        sizes = []
        for n in range(65):
            client.get(f"/api/v1/status?innsendingReferanse={ref}&n={n}", headers=auth)
            entries = client.get(f"/sandbox/runs/{run['id']}/journal").json["entries"]  # type: ignore[index]
            sizes.append(len(entries))
        assert max(sizes) == 20
        assert entries[-1]["request"]["query"].endswith("n=64")
        queries = [e["request"]["query"] for e in entries]
        assert queries == sorted(queries, key=lambda q: int(q.rsplit("=", 1)[1]))
    finally:
        app.extensions["sandbox.engine"].dispose()


def test_bodies_are_capped_and_binary_is_summarised(database_url: str) -> None:
    app = _app(database_url, JOURNAL_BODY_CAP=100)
    client = app.test_client()
    try:
        run = client.post("/sandbox/runs", json={}).json
        assert run is not None
        auth = basic(run["credentials"]["username"], run["credentials"]["password"])
        long_title = {**INNSENDING, "tittel": "x" * 150}
        assert client.post("/api/v1/innsending", json=long_title, headers=auth).status_code == 201
        ref = client.get(f"/sandbox/runs/{run['id']}").json["innsendingReferanser"][0]  # type: ignore[index]
        client.post(f"/sandbox/runs/{run['id']}/events", json={"type": "journalfor"})
        vedtak = client.post(
            f"/sandbox/runs/{run['id']}/events", json={"type": "vedtak", "resultat": "avslag"}
        ).json
        assert vedtak is not None
        url = vedtak["oppdateringer"][0]["utgaaendeDokument"][0]["dokumentUrl"]
        assert client.get(url.replace("http://localhost", ""), headers=auth).status_code == 200
        # A wrong path with the run's credentials is recorded too: scoring needs it.
        assert (
            client.get(f"/api/v1/mangel?innsendingReferanse={ref}", headers=auth).status_code == 404
        )
        entries = client.get(f"/sandbox/runs/{run['id']}/journal").json["entries"]  # type: ignore[index]
        posted, pdf, wrong = entries[0], entries[1], entries[2]
        assert len(posted["request"]["body"]) == 100 and posted["request"]["bodyTruncated"] is True
        assert pdf["response"]["body"].startswith("[application/pdf, ")
        assert pdf["response"]["headers"]["Content-Type"] == "application/pdf"
        assert wrong["request"]["path"] == "/api/v1/mangel" and wrong["response"]["status"] == 404
        # Control-plane calls are not part of the client's journal.
        assert all(e["request"]["path"].startswith("/api/") for e in entries)
    finally:
        app.extensions["sandbox.engine"].dispose()


def test_a_wrong_password_is_counted_apart_and_never_journalled(database_url: str) -> None:
    app = _app(database_url)
    client = app.test_client()
    try:
        run = client.post("/sandbox/runs", json={}).json
        assert run is not None
        bad = basic(run["credentials"]["username"], "not-the-password")
        assert (
            client.get("/api/v1/kvittering?innsendingReferanse=AR1", headers=bad).status_code == 401
        )
        # Also where no view asked for the credentials: an unknown path.
        assert client.get("/api/v1/mangel", headers=bad).status_code == 404
        assert client.get(f"/sandbox/runs/{run['id']}/journal").json["entries"] == []  # type: ignore[index]
        app.extensions["sandbox.auth_failures"].flush()
        with app.app_context():
            tally = tally_of(get_session(), run["id"])
        assert tally is not None and tally["count"] == 2
        assert [a["path"] for a in tally["recent"]] == ["/api/v1/mangel", "/api/v1/kvittering"]
        assert "not-the-password" not in str(tally)
    finally:
        app.extensions["sandbox.engine"].dispose()


def test_request_headers_read_from_the_environ_match_werkzeugs() -> None:
    """The journal reads headers straight from the WSGI environ: same names, same values,
    same hiding as werkzeug's own view of them."""
    from werkzeug.datastructures import EnvironHeaders

    from app.api.journal import _redact_headers, request_headers

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/innsending",
        "wsgi.input": object(),
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": "Basic a2xpZW50OmhlbW1lbGln",  # klient:hemmelig
        "HTTP_COOKIE": "session=abc",
        "HTTP_PROXY_AUTHORIZATION": "Bearer tok",
        "HTTP_X_REQUEST_ID": "",
        "HTTP_X_VENDOR_TRACE": "t-1",
        "HTTP_CONTENT_TYPE": "text/plain",  # never a header of its own in WSGI
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "",  # empty: not a header
    }
    mine = request_headers(environ)
    assert mine == _redact_headers(EnvironHeaders(environ))
    assert list(mine) == [name for name, _ in EnvironHeaders(environ)]
    assert mine["Authorization"] == "Basic klient:***"
    assert mine["Cookie"] == mine["Proxy-Authorization"] == "***"
    assert mine["X-Request-Id"] == "" and "Content-Length" not in mine
    assert mine["Content-Type"] == "application/json"
    # Asked again (the names now come from the cache), the answer is the same.
    assert request_headers(environ) == mine
    sized = {**environ, "CONTENT_LENGTH": "12"}
    assert request_headers(sized) == _redact_headers(EnvironHeaders(sized))
    assert request_headers(sized)["Content-Length"] == "12"


def test_a_nul_byte_or_an_utf16_form_is_journalled_as_text(database_url: str) -> None:
    """PostgreSQL's text holds no NUL: a body with one is journalled (NUL as U+FFFD), not
    lost with a 500; an XML body is read in the encoding it declares."""
    app = _app(database_url)
    client = app.test_client()
    try:
        run = client.post("/sandbox/runs", json={}).json
        assert run is not None
        auth = basic(run["credentials"]["username"], run["credentials"]["password"])
        nul = client.post(
            "/api/v1/innsending",
            data=b'{"tittel": "a\x00b"}',
            headers={**auth, "Content-Type": "application/json"},
        )
        assert nul.status_code == 400
        xml = '<?xml version="1.0" encoding="utf-16"?><ukjentSkjema>Bø</ukjentSkjema>'
        other = client.post(
            "/api/v1/innsending",
            data=xml.encode("utf-16"),
            headers={**auth, "Content-Type": "application/xml"},
        )
        assert other.status_code == 400
        entries = client.get(f"/sandbox/runs/{run['id']}/journal").json["entries"]  # type: ignore[index]
        bodies = [e["request"]["body"] for e in entries]
        assert bodies == ['{"tittel": "a\ufffdb"}', xml]
    finally:
        app.extensions["sandbox.engine"].dispose()
