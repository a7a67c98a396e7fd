"""Hostile clients and forged requests: CSRF, security headers, sessions, failed logins, escaping."""

from __future__ import annotations

import stat
from pathlib import Path

from app import create_app
from app.reports import markdown


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
