"""The sandbox's tables. All run state lives here; a worker keeps only caches it checks
against a run's ``version`` (``app.engine.snapshots``), so workers agree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base for every table."""


class Tenant(Base):
    """A vendor's fixed credentials: each søknad sent with them starts a run of its own."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # A salted slow hash (app.engine.credentials.hash_secret): a person may choose it.
    password_hash: Mapped[str] = mapped_column(String(200))
    scenario: Mapped[str | None] = mapped_column(String(100), default=None)
    # [{"soknadstype"?: str, "tiltakstype"?: str, "scenario": str}], first match wins.
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    clock: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retention: Mapped[str] = mapped_column(String(40), default="P30D")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The scenario a person picked for the next søknad: one søknad plays it, then it is None.
    next_scenario: Mapped[str | None] = mapped_column(String(100), default=None)


class Run(Base):
    """One execution for one client: credentials, clock, case state and counters."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(200))
    profile: Mapped[str] = mapped_column(String(40))
    seed: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Virtual clock: virtual now = virtual_anchor + (real now - real_anchor) * factor.
    clock_mode: Mapped[str] = mapped_column(String(20))
    clock_factor: Mapped[float] = mapped_column()
    clock_virtual_anchor: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    clock_real_anchor: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    clock_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # advance-on-poll: each authenticated API request moves the clock this far.
    clock_poll_step_seconds: Mapped[float | None] = mapped_column(default=None)
    # A clock that starts on the client's first request: it stands still until then, and
    # this is the factor it will run at (None: it runs already).
    clock_waiting_factor: Mapped[float | None] = mapped_column(default=None)
    # The scenario the run plays (a snapshot, so edits to the file never change a run),
    # and the timeline's progress: step status, fire times, innsending aliases.
    scenario_id: Mapped[str | None] = mapped_column(String(100), default=None)
    scenario: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    timeline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The case aggregate (app.domain.case.Sak) as JSON, guarded by an optimistic version.
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=0)
    rng_counter: Mapped[int] = mapped_column(Integer, default=0)
    oppdatering_seq: Mapped[int] = mapped_column(Integer, default=0)
    journal_count: Mapped[int] = mapped_column(Integer, default=0)
    # When the run's client last called (set with the journal count): retention runs from it.
    last_exchange_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The tenant whose søknad started the run (None: a plain run); its runs go with it.
    tenant: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.name", ondelete="CASCADE"), default=None, index=True
    )


class TenantReference(Base):
    """An innsendingReferanse a tenant's run holds: unique across the tenant, found by it."""

    __tablename__ = "tenant_references"

    tenant: Mapped[str] = mapped_column(
        ForeignKey("tenants.name", ondelete="CASCADE"), primary_key=True
    )
    referanse: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)


class TenantSoknad(Base):
    """A tenant's søknad by the digest of its canonical body: the same body again within the
    resend window is that søknad sent again (``app.api.tenant_resend``)."""

    __tablename__ = "tenant_soknader"

    tenant: Mapped[str] = mapped_column(
        ForeignKey("tenants.name", ondelete="CASCADE"), primary_key=True
    )
    body_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EventLog(Base):
    """Every kommune event applied to a run, in order."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, object]] = mapped_column(JSON)
    virtual_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    real_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KvitteringRow(Base):
    """The one kvittering of an innsending, exactly as emitted."""

    __tablename__ = "kvitteringer"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    innsending_referanse: Mapped[str] = mapped_column(String(40), primary_key=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    created_virtual: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OppdateringRow(Base):
    """One oppdatering, exactly as emitted, with the references it concerns."""

    __tablename__ = "oppdateringer"
    __table_args__ = (Index("ix_oppdateringer_run_seq", "run_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    references: Mapped[list[str]] = mapped_column(JSON)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    created_virtual: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DokumentRow(Base):
    """An outgoing letter in the dokumentformidler."""

    __tablename__ = "dokumenter"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    dokument_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    innsending_referanse: Mapped[str] = mapped_column(String(40))
    tittel: Mapped[str] = mapped_column(String(200))
    filnavn: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_virtual: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_virtual: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    """One exchange on the simulated API: request, response, real and virtual time."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_run_id_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    real_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    virtual_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    query: Mapped[str] = mapped_column(Text)
    request_headers: Mapped[dict[str, str]] = mapped_column(JSON)
    request_body: Mapped[str | None] = mapped_column(Text)
    request_body_truncated: Mapped[bool] = mapped_column(default=False)
    # The body as the API's schema loaded it (one spelling of every key), when it loaded.
    request_body_canonical: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[int] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSON)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_body_truncated: Mapped[bool] = mapped_column(default=False)
    duration_ms: Mapped[float] = mapped_column()
    # What the client did, for scenario triggers (kvittering_hentet, supplering_mottatt, …).
    action: Mapped[str | None] = mapped_column(String(40), default=None)
    # The scenario fault that shaped this response, if any.
    fault: Mapped[str | None] = mapped_column(String(100), default=None)
    # A client write sent again: the entry whose answer this one repeated (nothing applied).
    replay_of: Mapped[int | None] = mapped_column(Integer, default=None)
    # Repeated polls folded into one row (app.store.journal_folding): how many exchanges
    # the row stands for, when the last of them was answered, and the shortest pause
    # between two of them (end of one to start of the next).
    repeats: Mapped[int] = mapped_column(Integer, default=1)
    last_real_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_virtual_time: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    min_gap_ms: Mapped[float | None] = mapped_column(default=None)
    # What an identical repeat shares with this row (None: this row never folds), and
    # whether later repeats fold into it (the second of a kind does; the first stays alone).
    fold_key: Mapped[str | None] = mapped_column(String(64), default=None)
    gathers: Mapped[bool] = mapped_column(default=False)


class AuthFailureTally(Base):
    """Requests that named a run's username with the wrong password: never its journal."""

    __tablename__ = "auth_failures"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The last few attempts, newest last: {at, method, path, remote}.
    recent: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class TenantAuthFailureTally(Base):
    """Requests that named a tenant's username with the wrong password: never a journal."""

    __tablename__ = "tenant_auth_failures"

    tenant: Mapped[str] = mapped_column(
        ForeignKey("tenants.name", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recent: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class LoginFailure(Base):
    """Failed UI sign-ins of one username or one remote address in the current window."""

    __tablename__ = "login_failures"

    # "user:" or "addr:" and a SHA-256 of the username or address: no name is kept.
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
