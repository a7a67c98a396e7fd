"""Start-up as a new user meets it: every bad setting, unusable path or unreachable database
is one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app, limits
from app.errors import ConfigError

BIN = Path(sys.executable).parent


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "byggesak-sandbox"), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"Error: {message}"
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://x",
            "SANDBOX_DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST/DB, "
            "not 'mysql://x'",
        ),
        (
            "not a url",
            "SANDBOX_DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST/DB, "
            "not 'not a url'",
        ),
        (
            "sqlite:////proc/nope/s.db",
            "SANDBOX_DATABASE_URL sqlite:////proc/nope/s.db: cannot create the folder "
            "/proc/nope: No such file or directory",
        ),
        (
            "postgresql+psycopg2://u@127.0.0.1/x",
            "SANDBOX_DATABASE_URL postgresql+psycopg2://u@127.0.0.1/x: No module named 'psycopg2'",
        ),
    ],
)
def test_a_database_url_that_cannot_be_used_is_one_line(
    tmp_path: Path, url: str, message: str
) -> None:
    _one_line(_command("serve", env={"SANDBOX_DATABASE_URL": url}, cwd=tmp_path), message)


def test_an_unreachable_postgresql_is_one_line_without_its_password(tmp_path: Path) -> None:
    port = _closed_port()
    url = f"postgresql://u:secret@127.0.0.1:{port}/x"
    done = _command("serve", env={"SANDBOX_DATABASE_URL": url}, cwd=tmp_path)
    _one_line(
        done,
        f"SANDBOX_DATABASE_URL postgresql+psycopg://u:***@127.0.0.1:{port}/x: cannot open it: "
        f'connection failed: connection to server at "127.0.0.1", port {port} failed: '
        "Connection refused",
    )
    assert "secret" not in done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SANDBOX_SEED", str(2**64), f"SANDBOX_SEED must fit in 64 bits, not {2**64}"),
        (
            "SANDBOX_DOCUMENT_RETENTION_DAYS",
            "999999999999",
            "SANDBOX_DOCUMENT_RETENTION_DAYS must be 36500 or less, not 999999999999",
        ),
        (
            "SANDBOX_JOURNAL_MAX_ENTRIES",
            "0",
            "SANDBOX_JOURNAL_MAX_ENTRIES must be 1 or more, not 0",
        ),
    ],
)
@pytest.mark.parametrize(
    "command", [["serve"], ["run", "--scenario", "happy-path", "--client-cmd", "true"]]
)
def test_a_bad_setting_is_one_line_and_exit_2(
    tmp_path: Path, variable: str, value: str, message: str, command: list[str]
) -> None:
    env = {variable: value, "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
    _one_line(_command(*command, env=env, cwd=tmp_path), message)


def test_a_schema_path_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    done = _command("schema", "-o", "/proc/nope/x.json", env={}, cwd=tmp_path)
    _one_line(done, "cannot write /proc/nope/x.json: No such file or directory")
    folder = _command("schema", "-o", str(tmp_path), env={}, cwd=tmp_path)
    _one_line(folder, f"cannot write {tmp_path}: Is a directory")


def test_a_port_out_of_range_is_one_line(tmp_path: Path) -> None:
    done = _command("serve", "--port", "99999", env={}, cwd=tmp_path)
    _one_line(done, "Invalid value for '--port': 99999 is not in the range 1<=x<=65535.")


def test_the_factory_raises_config_error_for_the_same(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot create the folder /proc/nope"):
        create_app({"DATABASE_URL": "sqlite:////proc/nope/s.db"})
    with pytest.raises(ConfigError, match="must fit in 64 bits"):
        create_app({"DATABASE_URL": "sqlite://", "SEED": limits.SEED_MAX + 1})
