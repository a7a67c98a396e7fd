"""The crash tests' tools: a real server process killed with SIGKILL and started again on the
same database, a database of its own per test on each backend, a stall that holds the
server inside the journal write of one path, and the run's whole journal.

The server is started with the project's own command (``byggesak-sandbox serve --host
--port``) in a session of its own, so ``SIGKILL`` to its process group leaves nothing
behind, whatever server library the command uses and however many processes it forks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import requests
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.store.models import JournalEntry
from tests.conftest import BACKENDS, PG_ADMIN_URL

CLI = Path(sys.executable).with_name("byggesak-sandbox")
# Every URL the sandbox emits (dokumentUrl, kvitteringUrl) names this base, so payloads do not
# depend on the port a restarted server happens to get; clients map it to the live server.
PUBLIC_BASE = "http://sandbox.crash.invalid"
SERVER_APPLICATION_NAME = "bsbx-crash-server"  # PostgreSQL: the server's connections
JOURNAL_TABLE = JournalEntry.__tablename__
STALL_LOCK_KEY = 724_242  # PostgreSQL advisory lock the stalled journal insert waits for
STARTUP_SECONDS = 30.0


@dataclass
class Database:
    """A database of one test: the URL the server gets, and how the test reaches it."""

    backend: str
    server_url: str
    sqlite_path: Path | None = None
    engine: Engine | None = None  # PostgreSQL: the test's own connections (not the server's)
    name: str = ""


@contextmanager
def sqlite_database(folder: Path) -> Iterator[Database]:
    """A fresh SQLite file."""
    path = folder / "crash.db"
    yield Database("sqlite", f"sqlite:///{path}", sqlite_path=path)


@contextmanager
def postgres_database() -> Iterator[Database]:
    """A database of our own on the test PostgreSQL server, dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bsbx_crash_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means "no server"
        pytest.fail(
            f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({exc.__class__.__name__}). "
            "Start it, or set SANDBOX_TEST_BACKENDS=sqlite to test on SQLite alone."
        )
    url = make_url(PG_ADMIN_URL).set(database=name)
    server_url = url.set(query={"application_name": SERVER_APPLICATION_NAME})
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        yield Database(
            "postgresql",
            server_url.render_as_string(hide_password=False),
            engine=engine,
            name=name,
        )
    finally:
        engine.dispose()
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
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database of this test's own on each backend."""
    if request.param == "sqlite":
        with sqlite_database(tmp_path) as db:
            yield db
    else:
        with postgres_database() as db:
            yield db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """``byggesak-sandbox serve`` on loopback: start, SIGKILL, start again (a new port each time)."""

    def __init__(self, database: Database, folder: Path, env: dict[str, str] | None = None) -> None:
        self.database = database
        self.folder = folder
        self.env = env or {}
        self.url = ""
        self.starts = 0
        self.kills = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        env.update(
            SANDBOX_DATABASE_URL=self.database.server_url,
            SANDBOX_BASE_URL=PUBLIC_BASE,
            # No entry may be trimmed away: every one is evidence here.
            SANDBOX_JOURNAL_MAX_ENTRIES="1000000",
        )
        env.update(self.env)
        return env

    def start(self) -> None:
        """Start the server and wait until it answers."""
        assert self._process is None, "already running"
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(self.folder / f"server-{self.starts}.log", "wb")  # noqa: SIM115
        self.starts += 1
        self._process = subprocess.Popen(
            [str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=self.folder,
            env=self._environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            code = self._process.poll()
            if code is not None:
                raise AssertionError(f"the server exited with {code} on start:\n{self.log_tail()}")
            try:
                # Any answer will do: 401 from the simulated API, without credentials, is
                # the cheapest (it reads no scenario file and writes no journal entry).
                if requests.get(f"{self.url}/api/v1/status", timeout=2).status_code == 401:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer in time:\n{self.log_tail()}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL the server's whole process group and reap it."""
        process = self._process
        assert process is not None, "not running"
        with suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        self._process = None
        self.kills += 1
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """SIGKILL, then start again on the same database."""
        self.kill()
        self.start()

    def stop(self) -> None:
        """At the end of a test: kill it if it runs."""
        if self._process is not None:
            self.kill()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server wrote since it was last started."""
        path = self.folder / f"server-{self.starts - 1}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``condition`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def journal(base: str, run_id: str) -> list[dict[str, Any]]:
    """Every journal entry of the run, through the control plane's pagination."""
    entries: list[dict[str, Any]] = []
    etter = 0
    while True:
        response = requests.get(
            f"{base}/sandbox/runs/{run_id}/journal",
            params={"etter": etter, "limit": 5000},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        entries.extend(page["entries"])
        if page["next"] is None:
            return entries
        etter = page["next"]


def header(entry: dict[str, Any], name: str) -> str | None:
    """A request header of a journal entry, by name in any case."""
    wanted = name.lower()
    for key, value in entry["request"]["headers"].items():
        if key.lower() == wanted:
            return str(value)
    return None


def body(part: dict[str, Any]) -> Any:
    """The JSON body of a journalled request or response (None without one)."""
    raw = part.get("body")
    return json.loads(raw) if raw else None


# ---- a stalled journal write -----------------------------------------------------------
#
# To kill the server at one exact point — after it took a request of ``path`` and while
# it is writing that request's journal entry — a trigger on the journal table holds the
# insert of such an entry: on PostgreSQL until an advisory lock the test holds is free, on
# SQLite for seconds of CPU. Whatever the server does around the insert (commit the case
# change first, or in the same transaction) it is inside that write when it dies.


class Stall:
    """A stalled journal insert on one backend: install, wait until hit, remove."""

    def __init__(self, database: Database, path: str) -> None:
        self.database = database
        self.path = path
        self._holder: Any = None

    def install(self) -> None:
        """Put the trigger in place (before the request is sent)."""
        if self.database.backend == "sqlite":
            assert self.database.sqlite_path is not None
            with _sqlite(self.database.sqlite_path) as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS crash_stall (x INTEGER)")
                conn.execute("DELETE FROM crash_stall")
                conn.executemany("INSERT INTO crash_stall VALUES (?)", [(i,) for i in range(500)])
                # 125 million rows of cross join: several seconds, far longer than the kill.
                conn.execute(
                    f"CREATE TRIGGER crash_stall BEFORE INSERT ON {JOURNAL_TABLE} "
                    f"WHEN NEW.path = '{self.path}' BEGIN "
                    "SELECT count(*) FROM crash_stall a, crash_stall b, crash_stall c "
                    "WHERE a.x + b.x + c.x < 0; END"
                )
            return
        assert self.database.engine is not None
        self._holder = self.database.engine.connect()
        self._holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STALL_LOCK_KEY})
        self._holder.execute(
            text(
                "CREATE FUNCTION crash_stall() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN IF NEW.path = '{self.path}' THEN "
                f"PERFORM pg_advisory_xact_lock({STALL_LOCK_KEY}); END IF; RETURN NEW; END $$"
            )
        )
        self._holder.execute(
            text(
                f"CREATE TRIGGER crash_stall BEFORE INSERT ON {JOURNAL_TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION crash_stall()"
            )
        )

    def hit(self, timeout: float) -> bool:
        """Wait until a journal insert of the path is held; False if none came in time."""
        deadline = time.monotonic() + timeout
        if self.database.backend == "sqlite":
            assert self.database.sqlite_path is not None
            # Held: the database's write lock taken without a break for far longer than
            # any of the server's transactions takes.
            busy_since: float | None = None
            probe = sqlite3.connect(self.database.sqlite_path, timeout=0, isolation_level=None)
            try:
                while time.monotonic() < deadline:
                    try:
                        probe.execute("BEGIN IMMEDIATE")
                        probe.execute("ROLLBACK")
                        busy_since = None
                    except sqlite3.OperationalError:
                        busy_since = busy_since or time.monotonic()
                        if time.monotonic() - busy_since > 0.4:
                            return True
                    time.sleep(0.002)
            finally:
                probe.close()
            return False
        while time.monotonic() < deadline:
            waiting = self._holder.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = :key AND NOT granted"
                ),
                {"key": STALL_LOCK_KEY},
            ).scalar_one()
            if waiting:
                return True
            time.sleep(0.005)
        return False

    def remove(self) -> None:
        """After the kill: end what the dead server left running, then drop the trigger."""
        if self.database.backend == "sqlite":
            assert self.database.sqlite_path is not None
            with _sqlite(self.database.sqlite_path) as conn:
                conn.execute("DROP TRIGGER IF EXISTS crash_stall")
                conn.execute("DROP TABLE IF EXISTS crash_stall")
            return
        holder, self._holder = self._holder, None
        # The dead server's backend still waits for the lock inside its transaction;
        # ending it rolls that transaction back, as PostgreSQL would once it noticed.
        holder.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": SERVER_APPLICATION_NAME},
        )
        holder.execute(text("DROP TRIGGER IF EXISTS crash_stall ON " + JOURNAL_TABLE))
        holder.execute(text("DROP FUNCTION IF EXISTS crash_stall()"))
        holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STALL_LOCK_KEY})
        holder.close()


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def kill_inside_journal_write(
    server: Server, path: str, send: Callable[[], requests.Response]
) -> requests.Response | None:
    """Send one request of ``path``, SIGKILL the server while it writes the request's journal
    entry, start it again; the answer if one came (none should)."""
    stall = Stall(server.database, path)
    stall.install()
    try:
        sender = _InBackground(send)
        held = stall.hit(timeout=20)
        server.kill()
    finally:
        stall.remove()
    answer = sender.answer()
    server.start()
    assert held, f"the server never wrote a journal entry for {path}"
    return answer


def kill_after(
    server: Server,
    delay: float,
    send: Callable[[], requests.Response],
    then: Callable[[], None] | None = None,
) -> requests.Response | None:
    """Send a request, SIGKILL the server ``delay`` seconds later (and once ``then`` has
    returned), start it again; the answer if it came before the kill."""
    sender = _InBackground(send)
    time.sleep(delay)
    if then is not None:
        then()
    server.kill()
    answer = sender.answer()
    server.start()
    return answer


class _InBackground:
    """One request sent from a thread of its own, so the server can be killed meanwhile."""

    def __init__(self, send: Callable[[], requests.Response]) -> None:
        self._answers: list[requests.Response] = []
        self._thread = threading.Thread(target=self._send, args=(send,))
        self._thread.start()

    def _send(self, send: Callable[[], requests.Response]) -> None:
        with suppress(requests.RequestException):  # the kill cut it off: no answer
            self._answers.append(send())

    def answer(self) -> requests.Response | None:
        """The answer, once the request has ended one way or the other."""
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "a request outlived the server"
        return self._answers[0] if self._answers else None


class BusyDatabase:
    """Another writer on the database: it holds the lock journal entries are written under
    for ``hold`` seconds of every ``period``, as a second worker or a long transaction
    would. On SQLite that is the database's write lock; on PostgreSQL a lock on the journal
    table that keeps inserts out."""

    def __init__(self, database: Database, hold: float = 0.045, period: float = 0.05) -> None:
        self.database = database
        self.hold = hold
        self.period = period
        self.held = 0
        self._since: float | None = None  # when the lock now held was taken
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BusyDatabase:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def inside(self, elapsed: float, timeout: float = 10.0) -> None:
        """Wait until the lock has been held for ``elapsed`` seconds (< ``hold``)."""
        deadline = time.monotonic() + timeout
        while True:
            since = self._since
            if since is not None and elapsed <= time.monotonic() - since < self.hold:
                return
            assert time.monotonic() < deadline, "the database was never held"
            time.sleep(0.001)

    def _holding(self) -> None:
        self.held += 1
        self._since = time.monotonic()
        time.sleep(self.hold)
        self._since = None

    def _run(self) -> None:
        if self.database.backend == "sqlite":
            assert self.database.sqlite_path is not None
            with _sqlite(self.database.sqlite_path) as conn:
                while not self._stop.is_set():
                    conn.execute("BEGIN IMMEDIATE")
                    self._holding()
                    conn.execute("ROLLBACK")
                    time.sleep(self.period - self.hold)
            return
        assert self.database.engine is not None
        with self.database.engine.connect() as conn:
            while not self._stop.is_set():
                conn.execute(text("BEGIN"))
                conn.execute(text(f"LOCK TABLE {JOURNAL_TABLE} IN SHARE ROW EXCLUSIVE MODE"))
                self._holding()
                conn.execute(text("ROLLBACK"))
                time.sleep(self.period - self.hold)
