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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

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
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
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
)


def _add_missing_columns(engine: Engine) -> None:
    """Add the columns of ``ADDED_COLUMNS`` a database made by an older version lacks."""
    inspector = inspect(engine)
    for table, column, sql_type in ADDED_COLUMNS:
        if column in {c["name"] for c in inspector.get_columns(table)}:
            continue
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def init_app(app: Flask) -> None:
    """Create the engine and tables, and close the session after every request."""
    engine = build_engine(app.config["DATABASE_URL"])
    create_tables(engine)
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
