"""Repeated polls folded into one journal row: a run polled for weeks keeps what decides its verdicts.

A client that polls every second writes tens of thousands of exchanges a day, nearly all
the same question with the same answer. Trimming the oldest rows at the journal's cap
dropped the ones that decided verdicts (the innsending, the first kvittering), so a
correctly played run went from passed to failed after a few hours of polling.

An exchange that the request marked foldable (``fold_key``, set by ``app.api.journal``
only for a successful, unfaulted poll; the key covers the question (path and query),
the answer, the case's version and the span between two scoring deadlines, but not the
request's headers, which no verdict reads; the row shows its first request's) is folded
into the newest row of the same question (the run, path and query) when that row has
the same key and *gathers*: the first exchange of a kind stays a row of its own, the
second becomes the row its later repeats fold into, so a reader paging the journal (the
runner's ``--server`` feed) still sees that the client came back. A folded row counts
its ``repeats``, the time of the last one and the shortest pause between two of them,
which is all a verdict reads from identical polls (``app.scoring``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from app.store import driver
from app.store.models import JournalEntry

# The folding columns of a new row, for entries that do not name them.
NEW_ROW = {
    "repeats": 1,
    "last_real_time": None,
    "last_virtual_time": None,
    "min_gap_ms": None,
    "fold_key": None,
    "gathers": False,
    "replay_of": None,
}
_NEWEST = (
    select(
        JournalEntry.id,
        JournalEntry.fold_key,
        JournalEntry.gathers,
        JournalEntry.real_time,
        JournalEntry.last_real_time,
        JournalEntry.repeats,
        JournalEntry.min_gap_ms,
    )
    .where(
        JournalEntry.run_id == bindparam("run_id"),
        JournalEntry.path == bindparam("path"),
        JournalEntry.query == bindparam("query"),
    )
    .order_by(JournalEntry.id.desc())
    .limit(1)
)
_FOLD = (
    update(JournalEntry)
    .where(JournalEntry.id == bindparam("row_id"))
    .values(
        repeats=bindparam("repeats"),
        last_real_time=bindparam("last_real", type_=JournalEntry.last_real_time.type),
        last_virtual_time=bindparam("last_virtual", type_=JournalEntry.last_virtual_time.type),
        min_gap_ms=bindparam("gap"),
    )
)


def _aware(value: datetime | str) -> datetime:
    # Rows read straight from the driver: SQLite gives its stored text, not a datetime.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class _Tail:
    """A run's newest row: stored (``row_id``) or one of this batch's new rows (``entry``)."""

    fold_key: str | None
    gathers: bool
    ended: datetime
    repeats: int
    min_gap: float | None
    row_id: int | None = None
    entry: dict[str, Any] | None = None
    last_virtual: datetime | None = None

    def take(self, entry: dict[str, Any]) -> None:
        """Count ``entry`` as one more repeat of this row."""
        started = _aware(entry["real_time"]) - timedelta(milliseconds=entry["duration_ms"])
        gap = (started - self.ended).total_seconds() * 1000
        self.min_gap = gap if self.min_gap is None else min(self.min_gap, gap)
        self.repeats += 1
        self.ended = _aware(entry["real_time"])
        self.last_virtual = entry["virtual_time"]
        if self.entry is not None:  # not stored yet: the insert carries the count
            self.entry.update(
                repeats=self.repeats,
                last_real_time=self.ended,
                last_virtual_time=self.last_virtual,
                min_gap_ms=self.min_gap,
            )


def _lineage(entry: dict[str, Any]) -> tuple[str, str, str]:
    """The same question asked again: the run, the path and the query."""
    return entry["run_id"], entry["path"], entry["query"]


def fold(cursor: Any, engine: Engine, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold the batch's repeats into the rows they repeat (in the cursor's transaction);
    the entries left to insert, in order."""
    keyed = sorted({_lineage(e) for e in batch if e.get("fold_key") is not None})
    tails: dict[tuple[str, str, str], _Tail] = {}
    newest = driver.compiled(_NEWEST, engine)
    for lineage in keyed:
        run_id, path, query = lineage
        row = newest.one(cursor, {"run_id": run_id, "path": path, "query": query})
        if row is not None:
            row_id, key, gathers, real, last_real, repeats, gap = row
            ended = _aware(last_real or real)
            tails[lineage] = _Tail(key, bool(gathers), ended, int(repeats or 1), gap, row_id)
    stored: dict[int, _Tail] = {}
    inserts: list[dict[str, Any]] = []
    for entry in batch:
        for column, value in NEW_ROW.items():
            entry.setdefault(column, value)
        lineage, key = _lineage(entry), entry["fold_key"]
        tail = tails.get(lineage)
        same = key is not None and tail is not None and tail.fold_key == key
        if same and tail is not None and tail.gathers:
            tail.take(entry)
            if tail.row_id is not None:
                stored[tail.row_id] = tail
            continue
        entry["gathers"] = same
        inserts.append(entry)
        if lineage in tails or key is not None:  # a refusal breaks its lineage too
            ended = _aware(entry["real_time"])
            tails[lineage] = _Tail(key, same, ended, 1, None, entry=entry)
    if stored:
        driver.compiled(_FOLD, engine).run_many(
            cursor,
            [
                {
                    "row_id": row_id,
                    "repeats": tail.repeats,
                    "last_real": tail.ended,
                    "last_virtual": tail.last_virtual,
                    "gap": tail.min_gap,
                }
                for row_id, tail in stored.items()
            ],
        )
    return inserts
