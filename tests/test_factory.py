"""The app factory, configuration, OpenAPI document and the command line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import INNSENDING

BIN = Path(sys.executable).parent


def test_config_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("SANDBOX_SEED", "42")
    monkeypatch.setenv("SANDBOX_MAX_BODY_BYTES", "2048")
    app = create_app()
    assert app.config["DATABASE_URL"].endswith("env.db")
    assert app.config["SEED"] == 42 and app.config["MAX_CONTENT_LENGTH"] == 2048
    overridden = create_app({"SEED": 7, "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}"})
    assert overridden.config["SEED"] == 7 and overridden.config["DATABASE_URL"].endswith("test.db")
    for application in (app, overridden):
        application.extensions["sandbox.engine"].dispose()


def test_plain_postgresql_urls_get_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import Flask

    from app import config

    app = Flask("app")
    config.load(app, {"DATABASE_URL": "postgresql://u@h/db"})
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("false", False), ("no", False), ("0", False), ("true", True), ("On", True)],
)
def test_switches_read_words_as_a_person_writes_them(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: bool
) -> None:
    from flask import Flask

    from app import config

    monkeypatch.setenv("SANDBOX_SCENARIO_RELOAD", given)
    app = Flask("app")
    config.load(app, {"DATABASE_URL": "sqlite://"})
    assert app.config["SCENARIO_RELOAD"] is expected


def test_a_switch_set_to_nonsense_stops_the_start_with_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask import Flask

    from app import config

    monkeypatch.setenv("SANDBOX_SCENARIO_RELOAD", "maybe")
    with pytest.raises(
        ValueError, match="SANDBOX_SCENARIO_RELOAD must be true or false, not 'maybe'"
    ):
        config.load(Flask("app"), {"DATABASE_URL": "sqlite://"})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "SANDBOX_MAX_BODY_BYTES",
            "lots",
            "SANDBOX_MAX_BODY_BYTES must be a whole number, not 'lots'",
        ),
        (
            "SANDBOX_JOURNAL_BODY_CAP",
            "1.5",
            "SANDBOX_JOURNAL_BODY_CAP must be a whole number, not 1.5",
        ),
        (
            "SANDBOX_JOURNAL_MAX_ENTRIES",
            "0",
            "SANDBOX_JOURNAL_MAX_ENTRIES must be 1 or more, not 0",
        ),
        ("SANDBOX_DOCUMENT_RETENTION_DAYS", "-1", "must be 0 or more, not -1"),
        ("SANDBOX_SEED", "abc", "SANDBOX_SEED must be a whole number, not 'abc'"),
    ],
)
def test_a_number_set_to_nonsense_stops_the_start_with_its_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    from flask import Flask

    from app import config
    from app.errors import ConfigError

    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=message):
        config.load(Flask("app"), {"DATABASE_URL": "sqlite://"})


def test_numbers_from_the_environment_are_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import Flask

    from app import config

    monkeypatch.setenv("SANDBOX_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("SANDBOX_SEED", "-7")
    app = Flask("app")
    config.load(app, {"DATABASE_URL": "sqlite://"})
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["MAX_BODY_BYTES"] == 2048
    assert app.config["SEED"] == -7


@pytest.mark.parametrize(
    "command", [["serve"], ["run", "--scenario", "happy-path", "--client-cmd", "true"]]
)
def test_the_command_line_answers_a_bad_setting_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    done = subprocess.run(
        [str(BIN / "byggesak-sandbox"), *command],
        env={**os.environ, "SANDBOX_JOURNAL_BODY_CAP": "lots"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip() == "Error: SANDBOX_JOURNAL_BODY_CAP must be a whole number, not 'lots'"
    )
    assert "Traceback" not in done.stdout + done.stderr


def test_default_seed_makes_runs_reproducible(client: FlaskClient, app: object) -> None:
    """Same seed and the same events give the same bytes, run after run."""

    def play() -> list[object]:
        run = client.post(
            "/sandbox/runs",
            json={
                "seed": 99,
                "innsending": INNSENDING,
                "clock": {"mode": "manual", "start": "2024-01-02T08:00:00Z"},
            },
        ).json
        assert run is not None
        events = client.post(f"/sandbox/runs/{run['id']}/events", json={"type": "journalfor"}).json
        mangel = client.post(
            f"/sandbox/runs/{run['id']}/events",
            json={
                "type": "mangel",
                "mangler": [
                    {
                        "sjekkpunktId": "2.2",
                        "utfall": "MG",
                        "tittel": "Kvittering for nabovarsling mangler",
                    }
                ],
            },
        ).json
        saksbehandler = client.post(
            f"/sandbox/runs/{run['id']}/events", json={"type": "tildel_saksbehandler"}
        ).json
        assert events and mangel and saksbehandler
        pdf_url = mangel["oppdateringer"][0]["utgaaendeDokument"][0]["dokumentUrl"]
        creds = run["credentials"]
        import base64

        auth = {
            "Authorization": "Basic "
            + base64.b64encode(f"{creds['username']}:{creds['password']}".encode()).decode()
        }
        pdf = client.get(pdf_url.replace("http://localhost", ""), headers=auth).data
        return [
            run["kommune"],
            run["innsendingReferanser"],
            events["kvitteringer"],
            mangel["oppdateringer"],
            saksbehandler["oppdateringer"],
            pdf,
        ]

    first, second = play(), play()
    assert first == second
    assert first[-1].startswith(b"%PDF")  # type: ignore[union-attr]


def test_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    assert spec is not None and spec["openapi"] == "3.1.0"
    for path in (
        "/api/v1/kvittering",
        "/api/v1/oppdatering",
        "/api/v1/status",
        "/api/v1/dokument/{dokumentId}",
        "/api/v1/innsending",
        "/api/v1/supplering",
        "/sandbox/runs",
        "/sandbox/runs/{runId}/events",
    ):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/innsending"]["post"]["x-sandbox-assumption"] is True
    assert "x-sandbox-assumption" not in spec["paths"]["/api/v1/kvittering"]["get"]
    kvittering = spec["components"]["schemas"]["Kvittering"]
    assert "milepæl" in kvittering["properties"] and "milepael" not in kvittering["properties"]
    assert spec["paths"]["/api/v1/kvittering"]["get"]["security"] == [{"runBasic": []}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([str(BIN / "byggesak-sandbox"), "serve"], id="console-script"),
        pytest.param([sys.executable, "-m", "app", "serve"], id="python-m-app"),
        pytest.param([str(BIN / "flask"), "--app", "app", "run"], id="flask-run"),
    ],
)
def test_command_line_starts_the_sandbox(argv: list[str], tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    proc = subprocess.Popen(
        [*argv, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            pytest.fail(f"{argv} did not start")
        assert response.json() == {"status": "ok"}
        assert (
            requests.post(f"http://127.0.0.1:{port}/sandbox/runs", json={}, timeout=5).status_code
            == 201
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_console_script_help() -> None:
    out = subprocess.run(
        [str(BIN / "byggesak-sandbox"), "--help"], capture_output=True, text=True, check=True
    )
    assert "serve" in out.stdout


def test_workers_starting_at_once_create_the_tables_once(database_url: str) -> None:
    """Several workers booting on an empty database race to create the tables; all survive."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_boot, args=(database_url,)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]


def _boot(database_url: str) -> None:
    create_app({"DATABASE_URL": database_url}).extensions["sandbox.engine"].dispose()
