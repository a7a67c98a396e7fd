"""The one write transaction on a run, and its retry.

Every change to a run — a kommune event, a client's innsending or supplering, a clock
move, the end of the run — goes through :func:`write_run`. It reads the run (on
PostgreSQL under ``SELECT … FOR UPDATE``, so writers queue), lets the caller decide the
new column values and rows, and stores them in one transaction guarded by the run's
``version`` column: if another worker changed the run meanwhile, the update matches no
row and the change is decided again on the fresh state. SQLite has one writer at a time
and reports a lost race as "database is locked", which is retried after a short random
pause. So two workers never apply one change twice or lose one.

A change made by a client request may carry the request's journal entry: it is stored
in the same transaction (``record``), so a crash can never leave the case changed and
the exchange unrecorded.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, Problem
from app.store import journal_writer
from app.store.models import Run

MAX_ATTEMPTS = 40
T = TypeVar("T")


@dataclass
class Write:
    """What one attempt decided: the run's new column values, rows to add, the result."""

    values: dict[str, Any]
    rows: list[Any] = field(default_factory=list)
    journal: dict[str, Any] | None = None  # the client's exchange, recorded with the change
    result: Any = None


Decide = Callable[[Run], Write | None]


def refuse_if_finished(run: Run) -> None:
    """A finished run is read-only: every change to it is a 409."""
    if run.status != "active":
        message = f"Kjøringen {run.id} er avsluttet; den kan leses, men ikke endres."
        raise Conflict(message, [Problem("run.avsluttet", "runId", message)])


def write_run(session: Session, run_id: str, decide: Decide, *, journal_cap: int = 0) -> Any:
    """Decide and store one change of ``run_id`` exactly once; return its ``result``.

    ``decide`` sees the run as stored now and returns the change, or None when there is
    nothing to do (then nothing is written and None returned). It may run more than
    once, so it must not change anything outside the run it is given. A finished run
    refuses every change (409).
    """
    for attempt in range(MAX_ATTEMPTS):
        session.rollback()
        if attempt:
            time.sleep(random.uniform(0.001, 0.005 * min(attempt, 10)))
        run = session.get(Run, run_id, populate_existing=True, with_for_update=True)
        if run is None:
            message = f"Kjøringen {run_id} finnes ikke."
            raise NotFound(message, [Problem("run.ukjent", "runId", message)])
        refuse_if_finished(run)
        decided = decide(run)
        if decided is None:
            session.rollback()
            return None
        try:
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.version == run.version)
                .values(version=run.version + 1, **decided.values)
            )
            if getattr(result, "rowcount", 0) != 1:
                continue
            session.add_all(decided.rows)
            if decided.journal is not None:
                session.flush()
                engine = session.get_bind().engine
                cursor = session.connection().connection.cursor()
                try:
                    journal_writer.store(cursor, engine, journal_cap, [decided.journal])
                finally:
                    cursor.close()
            session.commit()
        except (OperationalError, IntegrityError):
            # SQLite reports a concurrent writer as "database is locked"; PostgreSQL's
            # unique keys catch a duplicate insert. Either way: decide again on fresh state.
            session.rollback()
            continue
        return decided.result
    message = "Kjøringen endres av mange samtidig; prøv igjen."
    raise Conflict(message, [Problem("run.samtidig_endring", "$", message)])
