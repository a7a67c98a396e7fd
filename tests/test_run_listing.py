"""Many runs: the list a page at a time with filters, and idle runs removed (issue 14, item 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app import create_app
from app.errors import ConfigError
from app.store import retention
from app.store.db import get_session
from app.store.models import JournalEntry, Run
from tests.conftest import basic


def _runs(client: FlaskClient, count: int, **body: object) -> list[dict[str, object]]:
    made = []
    for _ in range(count):
        answer = client.post("/sandbox/runs", json={"clock": {"mode": "manual"}, **body})
        assert answer.status_code == 201, answer.json
        made.append(answer.json)
    return made  # type: ignore[return-value]


def test_pages_cover_every_run_once_newest_first(client: FlaskClient) -> None:
    made = [r["id"] for r in _runs(client, 7)]
    seen: list[str] = []
    cursor = None
    while True:
        url = "/sandbox/runs?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).json
        assert page is not None and page["total"] >= 7  # and the ones made meanwhile
        seen += [r["id"] for r in page["runs"]]
        cursor = page["next"]
        if cursor is None:
            break
        _runs(client, 1)  # a run created meanwhile shifts no page
    assert seen == list(reversed(made))


def test_filters_by_status_and_scenario(client: FlaskClient) -> None:
    by_hand = _runs(client, 2)
    scripted = _runs(client, 1, scenario="happy-path")
    client.post(f"/sandbox/runs/{by_hand[0]['id']}/finish")
    finished = client.get("/sandbox/runs?status=finished").json
    assert [r["id"] for r in finished["runs"]] == [by_hand[0]["id"]]  # type: ignore[index]
    assert finished["total"] == 1  # type: ignore[index]
    happy = client.get("/sandbox/runs?scenario=happy-path").json
    assert [r["id"] for r in happy["runs"]] == [scripted[0]["id"]]  # type: ignore[index]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ti", "limit"),
        ("status=ferdig", "status"),
        ("cursor=%%%", "cursor"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client: FlaskClient, query: str, field: str) -> None:
    answer = client.get(f"/sandbox/runs?{query}")
    assert answer.status_code == 400
    assert answer.json["errors"][0]["field"] == field  # type: ignore[index]
    page = client.get(f"/ui/runs?{query}")
    assert page.status_code == 400 and field in page.get_data(as_text=True)


def test_the_ui_list_pages_too(client: FlaskClient) -> None:
    _runs(client, 3)
    page = client.get("/ui/runs?limit=2").get_data(as_text=True)
    assert "3  runs" in page or "3 runs" in page
    assert 'rel="next"' in page and "cursor=" in page
    last = client.get("/ui/runs?limit=3").get_data(as_text=True)
    assert 'rel="next"' not in last


def _age(app: Flask, run_id: str, *, created: timedelta, seen: timedelta | None) -> None:
    now = datetime.now(UTC)
    with app.app_context():
        session = get_session()
        values = {
            "created_at": now - created,
            "last_exchange_at": None if seen is None else now - seen,
        }
        session.execute(update(Run).where(Run.id == run_id).values(**values))
        session.commit()


def _ids(app: Flask) -> set[str]:
    with app.app_context():
        return set(get_session().scalars(select(Run.id)))


def test_idle_runs_go_with_their_journal_and_used_ones_stay(
    app: Flask, client: FlaskClient
) -> None:
    idle, polled, fresh = _runs(client, 3)
    auth = basic(polled["credentials"]["username"], polled["credentials"]["password"])  # type: ignore[index]
    assert client.get("/api/v1/status?innsendingReferanse=AR1", headers=auth).status_code == 404
    auth = basic(idle["credentials"]["username"], idle["credentials"]["password"])  # type: ignore[index]
    client.get("/api/v1/status?innsendingReferanse=AR1", headers=auth)
    _age(app, str(idle["id"]), created=timedelta(days=9), seen=timedelta(days=8))
    _age(app, str(polled["id"]), created=timedelta(days=30), seen=timedelta(days=1))
    with app.app_context():
        assert retention.sweep(app.extensions["sandbox.engine"], timedelta(days=7)) == 1
        left = get_session().scalar(
            select(func.count()).where(JournalEntry.run_id == str(idle["id"]))
        )
    assert left == 0
    assert _ids(app) == {polled["id"], fresh["id"]}


def test_the_server_sweeps_by_itself(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/r.db"})
    client = app.test_client()
    [old] = _runs(client, 1)
    _age(app, str(old["id"]), created=timedelta(days=8), seen=None)
    again = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/r.db"})
    again.test_client().get("/healthz")  # a new process's first request sweeps
    assert str(old["id"]) not in _ids(again)
    app.extensions["sandbox.engine"].dispose()
    again.extensions["sandbox.engine"].dispose()


@pytest.mark.parametrize("value", ["7 dager", "P0D", "-P1D", "P99999999999W"])
def test_a_bad_retention_stops_the_start_with_one_line(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="SANDBOX_RUN_RETENTION must be an ISO-8601 duration"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/r.db", "RUN_RETENTION": value})


def test_retention_zero_keeps_runs(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/r.db", "RUN_RETENTION": "0"})
    assert app.config["RUN_RETENTION"] is None
    app.extensions["sandbox.engine"].dispose()
