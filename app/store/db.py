"""The database: one engine per app, one session per app context (flaskr's ``get_db`` pattern)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.errors import ConfigError
from app.store import driver
from app.store.models import Base


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits; foreign keys make DELETE cascade.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _create_private(path: str) -> None:
    """Create the SQLite file readable by its owner alone, unless it exists already."""
    # It holds every run's credentials and journal. SQLite gives the -wal and -shm files
    # the database file's mode, so this covers them too; an existing file is left as it is.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def build_engine(url: str) -> Engine:
    """Create an engine for a SQLite path or a PostgreSQL URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            _create_private(parsed.database)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # A server that never answers must not hold the start (or a request) forever.
        timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=timeout
        )
    # The hot path's read connections live outside the pool: close them with it.
    event.listen(engine, "engine_disposed", driver.close_readers)
    return engine


def create_tables(engine: Engine, attempts: int = 10) -> None:
    """Create missing tables; several workers starting at once may race, so retry."""
    for attempt in range(attempts):
        try:
            Base.metadata.create_all(engine)
            _add_missing_columns(engine)
            return
        except DBAPIError:
            # Another process created a table between our check and our CREATE.
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


# Columns added to a table after databases were created with it: create_all leaves an
# existing table alone, so each is added here when missing (table, column, SQL type).
ADDED_COLUMNS = (
    ("journal", "request_body_canonical", "TEXT"),
    ("journal", "replay_of", "INTEGER"),
    ("runs", "last_exchange_at", "TIMESTAMP WITH TIME ZONE"),
    ("journal", "repeats", "INTEGER NOT NULL DEFAULT 1"),
    ("journal", "last_real_time", "TIMESTAMP WITH TIME ZONE"),
    ("journal", "last_virtual_time", "TIMESTAMP WITH TIME ZONE"),
    ("journal", "min_gap_ms", "FLOAT"),
    ("journal", "fold_key", "VARCHAR(64)"),
    ("journal", "gathers", "BOOLEAN NOT NULL DEFAULT FALSE"),
    ("runs", "tenant", "VARCHAR(80)"),
    ("runs", "clock_waiting_factor", "FLOAT"),
    ("tenants", "next_scenario", "VARCHAR(100)"),
)


def _add_missing_columns(engine: Engine) -> None:
    """Add the columns of ``ADDED_COLUMNS`` a database made by an older version lacks."""
    inspector = inspect(engine)
    for table, column, sql_type in ADDED_COLUMNS:
        if column in {c["name"] for c in inspector.get_columns(table)}:
            continue
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def open_database(url: str) -> Engine:
    """The engine of ``url`` with its tables; a database that cannot be used is a ConfigError."""
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        engine = build_engine(url)
    except OSError as exc:  # the SQLite file's folder cannot be made
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"SANDBOX_DATABASE_URL {shown}: cannot create the folder {exc.filename}: {reason}"
        ) from None
    except (ImportError, SQLAlchemyError) as exc:  # a driver the project does not install
        raise ConfigError(f"SANDBOX_DATABASE_URL {shown}: {_first_line(exc)}") from None
    try:
        with engine.connect():
            pass  # reachable at all: create_tables retries only a race between workers
        create_tables(engine)
    except (OSError, SQLAlchemyError) as exc:
        engine.dispose()
        reason = _first_line(getattr(exc, "orig", None) or exc)
        raise ConfigError(f"SANDBOX_DATABASE_URL {shown}: cannot open it: {reason}") from None
    return engine


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else exc.__class__.__name__


def init_app(app: Flask) -> None:
    """Create the engine and tables, and close the session after every request."""
    engine = open_database(app.config["DATABASE_URL"])
    # Leave no pooled connection behind: a server that forks workers after this point
    # (the serve command's granian workers) must not share one socket between processes.
    engine.dispose()
    app.extensions["sandbox.db"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["sandbox.engine"] = engine
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """The current app context's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["sandbox.db"]()
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the session at the end of the app context."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
