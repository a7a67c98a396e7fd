"""What the scorer reads: a run's exchanges and the kommune's side of the case, as plain facts.

Scoring reads only the journal, the scenario snapshot and what the kommune did (the case,
its kvitteringer, oppdateringer and documents); it never changes the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.case import Sak, Saksnummer
from app.domain.durations import parse_delay
from app.engine.clock import aware, clock_of
from app.engine.reads import load_sak
from app.scenarios.model import CheckTuning, Expectation, Scenario, scenario_of
from app.store import journal_reads
from app.store.models import DokumentRow, JournalEntry, KvitteringRow, OppdateringRow, Run
from app.vocabulary import DEFAULT_CHECKS, POLL_PATHS, PROTOCOL_CHECKS
from app.wire.inputs.canonical import canonical


@dataclass
class Exchange:
    """One recorded request and response.

    ``body`` is the request body in its canonical form (as the API's schema loaded it),
    which every matcher and check reads; ``request_body`` is the raw JSON, for display.
    """

    id: int
    real_time: datetime
    virtual_time: datetime
    method: str
    path: str
    query: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    response_body: Any
    fault: str | None
    started: datetime
    body: Any = None
    replay_of: int | None = None  # a write sent again, answered as before (app.api.resend)
    # Identical polls folded into this one (app.store.journal_folding): how many, when the
    # last was answered, and the shortest pause between two of them, in seconds.
    repeats: int = 1
    last_real_time: datetime | None = None
    min_gap: float | None = None

    @property
    def ended(self) -> datetime:
        """When the last of this exchange's repeats was answered."""
        return self.last_real_time or self.real_time

    @property
    def label(self) -> str:
        """``GET /api/v1/kvittering?innsendingReferanse=AR1 → 200``."""
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method} {self.path}{'?' + query if query else ''} → {self.status}"

    @property
    def is_poll(self) -> bool:
        """A GET on an API that is polled (kvittering, oppdatering, status)."""
        return self.method == "GET" and self.path in POLL_PATHS

    @property
    def asks_poll_api(self) -> bool:
        """A GET or a HEAD on a polled API: the server answers both in full, and a HEAD
        tells a client as much (the headers) as it needs to poll."""
        return self.method in ("GET", "HEAD") and self.path in POLL_PATHS

    def reference(self) -> str | None:
        """The innsendingReferanse the exchange is about, if any."""
        if "innsendingReferanse" in self.query:
            return self.query["innsendingReferanse"]
        if isinstance(self.body, dict):
            value = self.body.get("innsendingReferanse")
            return value if isinstance(value, str) else None
        return None


@dataclass
class Facts:
    """Everything a verdict may depend on."""

    run: Run
    scenario: Scenario  # as scored: with the protocol checks every run gets
    sak: Sak
    now: datetime
    start: datetime
    exchanges: list[Exchange]
    fired: dict[str, datetime]
    aliases: dict[str, str]
    kvitteringer: dict[str, dict[str, Any]]
    oppdateringer: list[tuple[int, list[str], dict[str, Any]]]
    documents: list[DokumentRow]
    poll_interval: float = 1.0

    def saksnummer_at(self, referanse: str, when: datetime) -> Saksnummer | None:
        """The innsending's saksnummer as it stood at virtual time ``when``."""
        innsending = self.sak.innsending(referanse)
        kvittering = self.kvitteringer.get(referanse)
        if innsending is None or kvittering is None:
            return None
        registered = datetime.fromisoformat(kvittering["registrertDato"].replace("Z", "+00:00"))
        if when < registered:
            return None
        current = Saksnummer(
            kvittering["saksnummer"]["saksaar"], kvittering["saksnummer"]["sakssekvensnummer"]
        )
        for endring in innsending.saksnummerHistorikk:
            if aware(endring.tidspunkt) <= when:
                current = endring.tilSaksnummer[0]
        return current


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def api_path(path: str) -> str:
    """The path with its API part lower-cased, as the API routes it (``/api/v1/Kvittering``)."""
    if not path.lower().startswith("/api/v1/"):
        return path
    api, slash, rest = path[len("/api/v1/") :].partition("/")
    return f"/api/v1/{api.lower()}{slash}{rest}"


def _exchange(row: JournalEntry) -> Exchange:
    raw = _json(row.request_body)
    return Exchange(
        id=row.id,
        real_time=aware(row.real_time),
        virtual_time=aware(row.virtual_time),
        method=row.method,
        path=api_path(row.path),
        query={k: v[0] for k, v in parse_qs(row.query, keep_blank_values=True).items()},
        request_body=raw,
        status=row.status,
        response_headers=dict(row.response_headers or {}),
        response_body=None if row.response_body_truncated else _json(row.response_body),
        fault=row.fault,
        started=aware(row.real_time) - timedelta(milliseconds=row.duration_ms),
        body=_canonical(row, raw),
        replay_of=row.replay_of,
        repeats=row.repeats or 1,
        last_real_time=aware(row.last_real_time) if row.last_real_time else None,
        min_gap=row.min_gap_ms / 1000 if row.min_gap_ms is not None else None,
    )


def _canonical(row: JournalEntry, raw: Any) -> Any:
    if row.request_body_canonical is not None:
        return _json(row.request_body_canonical)
    # Entries journalled before the canonical form was kept: load the raw body now.
    return None if row.request_body_truncated else canonical(row.method, row.path, raw)


def gather(session: Session, run: Run) -> Facts:
    """Read a run's journal and the kommune's side of the case."""
    rows = journal_reads.entries(session, run.id)
    exchanges = [_exchange(row) for row in rows]
    states = (run.timeline or {}).get("steps", {})
    fired = {
        step_id: aware(datetime.fromisoformat(state["at"]))
        for step_id, state in states.items()
        if state.get("status") == "fired"
    }
    kvitteringer = {
        row.innsending_referanse: row.payload
        for row in session.scalars(select(KvitteringRow).where(KvitteringRow.run_id == run.id))
    }
    oppdateringer = [
        (row.seq, list(row.references), row.payload)
        for row in session.scalars(
            select(OppdateringRow)
            .where(OppdateringRow.run_id == run.id)
            .order_by(OppdateringRow.seq)
        )
    ]
    documents = list(session.scalars(select(DokumentRow).where(DokumentRow.run_id == run.id)))
    return Facts(
        run=run,
        scenario=scored(scenario_of(run)),
        sak=load_sak(run),
        now=aware(clock_of(run).now()),
        start=aware(run.clock_start),
        exchanges=exchanges,
        fired=fired,
        aliases=dict((run.timeline or {}).get("aliases", {})),
        kvitteringer=kvitteringer,
        oppdateringer=oppdateringer,
        documents=documents,
        poll_interval=float((run.timeline or {}).get("pollInterval", 1.0)),
    )


def expectations(scenario: Scenario) -> list[Expectation]:
    """The scenario's expectations, then each protocol check every run gets unless the
    scenario turns it off (``checks: {name: {enabled: false}}``) or names it itself."""
    own = list(scenario.expect)
    named = {e.check for e in own}
    ids = {e.id for e in own}
    for name, check in PROTOCOL_CHECKS.items():
        tuned = scenario.checks.get(name) or CheckTuning()
        enabled = tuned.enabled if tuned.enabled is not None else name in DEFAULT_CHECKS
        if name in named or name in ids or not enabled:
            continue
        own.append(
            Expectation(
                id=name,
                check=name,
                requirement=check.requirement,
                severity=tuned.severity or check.severity,
                weight=tuned.weight if tuned.weight is not None else 1.0,
                # A default run that cannot apply (or is left undecided) must not fail the
                # run on its own; it fails it when it fails. One the scenario switched on
                # is the scenario's own: undecided, it blocks like any must.
                optional=name in DEFAULT_CHECKS,
            )
        )
    return own


def scored(scenario: Scenario) -> Scenario:
    """The scenario as scored: its expectations with the protocol checks every run gets."""
    return replace(scenario, expect=tuple(expectations(scenario)))


def after(facts: Facts, step: str | None) -> datetime | None:
    """When an expectation's window opens: the step's fire time, or the start."""
    if step is None:
        return facts.start
    return facts.fired.get(step)


def deadline(opened: datetime, within: str | None) -> datetime | None:
    """The end of the window, from a ``within`` duration."""
    if within is None:
        return None
    return parse_delay(within).after(opened)
