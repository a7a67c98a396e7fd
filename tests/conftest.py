"""Fixtures: an app per test on each backend, a test client, a live server on loopback, helpers.

Every test that takes ``app`` runs on SQLite and on PostgreSQL. The PostgreSQL server is
the one at SANDBOX_TEST_POSTGRES_URL (default: 127.0.0.1:5432, user postgres); the
session creates its own database there and drops it at the end. Set
SANDBOX_TEST_BACKENDS=sqlite to run on SQLite alone where no PostgreSQL is available.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app

BACKENDS = [
    b.strip() for b in os.environ.get("SANDBOX_TEST_BACKENDS", "sqlite,postgresql").split(",")
]
PG_ADMIN_URL = os.environ.get(
    "SANDBOX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

INNSENDING = {
    "soknadstype": "RS",
    "tiltakstype": ["nyttbyggboligformal"],
    "tittel": "Enebolig med garasje",
    "dokumenter": [
        {
            "dokumentNavn": "Skjema.pdf",
            "mimeType": "application/pdf",
            "dokumentStorrelse": "123245",
            "ekstraMetadata": [{"key": "skjemaversjon.dokument", "value": "5844.43006"}],
        },
        {
            "dokumentNavn": "2_TEGN_Situasjonsplan_situasjonsplan.pdf",
            "mimeType": "application/pdf",
            "dokumentStorrelse": "52311",
        },
    ],
}


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, dropped after the session."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bsbx_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means "no server"
        pytest.fail(
            f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc.__class__.__name__}). "
            "Start it, or set SANDBOX_TEST_BACKENDS=sqlite to test on SQLite alone."
        )
    yield str(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A clean database for one test on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sandbox.db'}"
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """A fresh app on a clean database."""
    application = create_app({"TESTING": True, "DATABASE_URL": database_url})
    yield application
    application.extensions["sandbox.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client."""
    return app.test_client()


class LiveServer:
    """The app served by werkzeug on a free loopback port, in a thread."""

    def __init__(self, app: Flask) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """A real HTTP server on loopback."""
    with LiveServer(app) as server:
        yield server


def csrf_form(client: FlaskClient, **fields: str) -> dict[str, str]:
    """``fields`` as a UI form sends them: with the CSRF token of the client's session."""
    page = client.get("/ui/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None, "the catalogue has no form with a CSRF token"
    return {**fields, "csrf_token": found.group(1)}


def basic(username: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Sandbox:
    """Small helper over real HTTP: the control plane and one run's client credentials."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()

    def create_run(self, **body: Any) -> dict[str, Any]:
        """Create a run and return the control plane's answer."""
        response = self.http.post(f"{self.base}/sandbox/runs", json=body, timeout=10)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def event(self, run_id: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
        """Apply a kommune event."""
        response = self.http.post(
            f"{self.base}/sandbox/runs/{run_id}/events", json=body, timeout=10
        )
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    def advance(self, run_id: str, duration: str) -> str:
        """Move a run's clock."""
        response = self.http.post(
            f"{self.base}/sandbox/runs/{run_id}/clock", json={"advance": duration}, timeout=10
        )
        assert response.status_code == 200, response.text
        return str(response.json()["now"])


@pytest.fixture
def sandbox(live_server: LiveServer) -> Sandbox:
    """The control-plane helper against the live server."""
    return Sandbox(live_server.url)


Sent = TypeVar("Sent")


def at_once(count: int, send: Callable[[], Sent]) -> list[Sent]:
    """Call ``send`` from ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[Sent] = []

    def one() -> None:
        barrier.wait()
        results.append(send())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
