"""The run engine: create runs, apply events exactly once, and answer what a client may read.

State changes go through :func:`apply_event`. It loads the case, lets the domain event
change it, renders what the client will see, checks every payload against DiBK's rules
and stores it all in one transaction guarded by the run's ``version`` column: if another
worker changed the run meanwhile, the update matches no row and the event is retried on
the fresh state. On PostgreSQL the run row is also locked (``SELECT … FOR UPDATE``) so
writers queue instead of retrying; SQLite has one writer at a time and reports a lost
race as "database is locked", which is retried after a short random pause. So two
workers never apply one event twice or lose one.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.domain.case import Innsending, Kontaktpunkt, MottattDokument, Sak, UtgaaendeDokument
from app.domain.events import Event
from app.domain.messages import Kvittering, Oppdatering
from app.domain.serial import from_plain, to_plain
from app.engine.clock import Clock, aware, new_clock, utcnow
from app.engine.pdf import render_letter
from app.engine.settings import EngineConfig
from app.errors import Conflict, EmissionRejected, Gone, NotFound, Problem, ValidationFailed
from app.store.models import DokumentRow, EventLog, KvitteringRow, OppdateringRow, Run
from app.testdata.no_provider import Kommune, SyntheticData, kommuner
from app.wire import render, rules
from app.wire.dates import iso

MAX_ATTEMPTS = 40


@dataclass
class Applied:
    """What one event produced."""

    kind: str
    seq: int
    virtual_time: datetime
    kvitteringer: list[dict[str, Any]] = field(default_factory=list)
    oppdateringer: list[dict[str, Any]] = field(default_factory=list)
    advarsler: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the control plane."""
        return {
            "hendelse": self.kind,
            "sekvensnummer": self.seq,
            "virtuellTid": iso(self.virtual_time),
            "kvitteringer": self.kvitteringer,
            "oppdateringer": self.oppdateringer,
            "advarsler": self.advarsler,
        }


def hash_password(password: str) -> str:
    """SHA-256 of a run password; the passwords are random 192-bit tokens, not user secrets."""
    return hashlib.sha256(password.encode()).hexdigest()


def password_matches(password_sha256: str, password: str) -> bool:
    """Constant-time check of a run password against its stored hash."""
    return hmac.compare_digest(password_sha256, hash_password(password))


def clock_of(run: Run) -> Clock:
    """The run's virtual clock."""
    return Clock(run.clock_mode, run.clock_factor, run.clock_virtual_anchor, run.clock_real_anchor)


def load_sak(run: Run) -> Sak:
    """The run's case aggregate."""
    return from_plain(Sak, run.state)


class RunContext:
    """The engine side of :class:`app.domain.events.EventContext` for one event."""

    def __init__(
        self, run: Run, sak: Sak, timeline: dict[str, Any], now: datetime, config: EngineConfig
    ) -> None:
        self.run = run
        self.sak = sak
        self.timeline = timeline
        self.now = now
        self.config = config
        self.data = SyntheticData(f"{run.seed}:{run.rng_counter}")
        self.documents: list[DokumentRow] = []

    def new_id(self) -> str:
        """A seeded UUID."""
        return self.data.uuid()

    def new_saksbehandler(self) -> Kontaktpunkt:
        """A seeded caseworker of this kommune."""
        kommune = kommuner().get(self.sak.kommunenummer)
        return self.data.saksbehandler(kommune)

    def publish(
        self, innsending: Innsending, tittel: str, linjer: list[str], metoder: list[str]
    ) -> UtgaaendeDokument:
        """Render the letter, queue it for the dokumentformidler and describe it."""
        dokument_id = self.new_id()
        refs = [f"Deres referanse: {innsending.innsendingReferanse}"]
        if innsending.saksnummer is not None:
            refs.insert(0, f"Saksnummer: {innsending.saksnummer.label}")
        content = render_letter(f"{self.sak.kommunenavn} kommune", tittel, self.now, refs, linjer)
        self.documents.append(
            DokumentRow(
                run_id=self.run.id,
                dokument_id=dokument_id,
                innsending_referanse=innsending.innsendingReferanse,
                tittel=tittel,
                filnavn=f"{tittel.split(' - ')[0].replace(' ', '_')}.pdf",
                mime_type="application/pdf",
                content=content,
                created_virtual=self.now,
                expires_virtual=self.now + self.config.document_retention,
            )
        )
        dokument = UtgaaendeDokument(
            dokumentId=dokument_id,
            dokumentTittel=tittel,
            filStorrelse=str(len(content)),
            dokumentUrl=f"{self.config.base_url}/api/v1/dokument/{dokument_id}",
            distribusjonsmetode=metoder,
        )
        innsending.utgaaendeDokumenter.append(dokument)
        return dokument


def create_run(
    session: Session,
    config: EngineConfig,
    *,
    label: str | None = None,
    seed: int | None = None,
    profile: str = "utkast-2022",
    kommunenummer: str | None = None,
    fraEbyggesaksystem: str | None = None,
    clock_mode: str = "realtime",
    clock_start: datetime | None = None,
    clock_factor: float | None = None,
    clock_poll_step: timedelta | None = None,
    scenario: dict[str, Any] | None = None,
    poll_interval: float = 1.0,
) -> tuple[Run, str]:
    """Create a run with fresh credentials; return it with its (only shown once) password."""
    if seed is None:
        seed = config.default_seed if config.default_seed is not None else secrets.randbelow(2**31)
    data = SyntheticData(seed)
    kommune: Kommune
    if kommunenummer is None:
        kommune = data.kommune()
    else:
        found = kommuner().get(kommunenummer)
        if found is None:
            message = f"Kommunenummer {kommunenummer} finnes ikke i SSBs liste for 2024."
            raise ValidationFailed(
                message, [Problem("run.kommunenummer.ukjent", "kommunenummer", message)]
            )
        kommune = found
    sak = Sak(
        kommunenummer=kommune.nummer,
        kommunenavn=kommune.navn.split(" - ")[0],
        fraEbyggesaksystem=fraEbyggesaksystem or "Sandkasse eByggesak",
        neste_sakssekvensnummer=data.random.randint(100, 9000),
        fordelingssak_sekvensnummer=data.random.randint(1, 60),
    )
    clock = new_clock(clock_mode, clock_start, clock_factor)
    password = secrets.token_urlsafe(24)
    run = Run(
        id=f"run-{secrets.token_hex(6)}",
        label=label,
        profile=profile,
        seed=seed,
        username=f"klient-{secrets.token_hex(5)}",
        password_sha256=hash_password(password),
        status="active",
        created_at=utcnow(),
        clock_mode=clock.mode,
        clock_factor=clock.factor,
        clock_virtual_anchor=clock.virtual_anchor,
        clock_real_anchor=clock.real_anchor,
        clock_start=clock.virtual_anchor,
        clock_poll_step_seconds=clock_poll_step.total_seconds() if clock_poll_step else None,
        scenario_id=scenario["id"] if scenario else None,
        scenario=scenario,
        timeline={"steps": {}, "aliases": {}, "pollInterval": poll_interval},
        state=to_plain(sak),
        version=0,
        rng_counter=1,
        oppdatering_seq=0,
    )
    session.add(run)
    session.commit()
    return run, password


Change = Callable[[Sak, dict[str, Any], "RunContext"], list[Any] | None]
AfterRender = Callable[[dict[str, Any], "Applied"], None]


def _mutate(
    session: Session,
    run_id: str,
    config: EngineConfig,
    change: Change,
    kind: str,
    source: str,
    params: dict[str, Any],
    *,
    at: datetime | None = None,
    after_render: AfterRender | None = None,
) -> Applied | None:
    """Load, change, render, check and store, retrying when another worker got there first.

    ``change`` returns the messages to send, or None when there is nothing to do (then
    nothing is written). ``at`` fixes the virtual time of the change (a scenario step
    fires at its due time, which may lie before the clock's now).
    """
    for attempt in range(MAX_ATTEMPTS):
        session.rollback()
        if attempt:
            time.sleep(random.uniform(0.001, 0.005 * min(attempt, 10)))
        run = session.get(Run, run_id, populate_existing=True, with_for_update=True)
        if run is None:
            raise NotFound(f"Kjøringen {run_id} finnes ikke.")
        sak = load_sak(run)
        timeline = copy.deepcopy(dict(run.timeline or {}))
        now = at or clock_of(run).now()
        ctx = RunContext(run, sak, timeline, now, config)
        messages = change(sak, timeline, ctx)
        if messages is None:
            session.rollback()
            return None
        seq = run.version + 1
        applied = Applied(kind, seq, now)
        rows: list[Any] = list(ctx.documents)
        oppdatering_seq = run.oppdatering_seq
        for message in messages:
            if isinstance(message, Kvittering):
                payload = render.kvittering_json(message, sak)
                _ensure_valid("kvittering", payload, now)
                applied.kvitteringer.append(payload)
                rows.append(
                    KvitteringRow(
                        run_id=run_id,
                        innsending_referanse=message.innsendingReferanse,
                        payload=payload,
                        created_virtual=now,
                    )
                )
            elif isinstance(message, Oppdatering):
                oppdatering_seq += 1
                payload = render.oppdatering_json(message, sak, oppdatering_seq)
                _ensure_valid("oppdatering", payload, now)
                applied.oppdateringer.append(payload)
                rows.append(
                    OppdateringRow(
                        run_id=run_id,
                        seq=oppdatering_seq,
                        references=list(message.innsendingReferanser),
                        payload=payload,
                        created_virtual=now,
                    )
                )
        if after_render is not None:
            after_render(timeline, applied)
        rows.append(
            EventLog(
                run_id=run_id,
                seq=seq,
                kind=kind,
                source=source,
                params=params,
                virtual_time=now,
                real_time=utcnow(),
            )
        )
        try:
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.version == run.version)
                .values(
                    state=to_plain(sak),
                    timeline=timeline,
                    version=seq,
                    rng_counter=run.rng_counter + 1,
                    oppdatering_seq=oppdatering_seq,
                )
            )
            if getattr(result, "rowcount", 0) != 1:
                continue
            session.add_all(rows)
            session.commit()
        except (OperationalError, IntegrityError):
            # SQLite reports a concurrent writer as "database is locked"; PostgreSQL's
            # unique keys catch a duplicate insert. Either way: retry on fresh state.
            session.rollback()
            continue
        return applied
    raise Conflict(
        "Kjøringen endres av mange samtidig; prøv igjen.",
        [Problem("run.samtidig_endring", "$", "Kjøringen endres av mange samtidig; prøv igjen.")],
    )


def _ensure_valid(api: rules.Api, payload: dict[str, Any], now: datetime) -> None:
    problems = rules.check(api, payload, now)
    if problems:
        raise EmissionRejected(
            f"Sandkassen laget en ugyldig {api}: {problems[0].message}", problems
        )


def apply_event(
    session: Session, run_id: str, config: EngineConfig, event: Event, source: str = "control"
) -> Applied:
    """Apply one kommune event to a run, exactly once."""
    advarsler: list[str] = []

    def change(sak: Sak, _timeline: dict[str, Any], ctx: RunContext) -> list[Any]:
        fresh = copy.deepcopy(event)
        messages = fresh.apply(sak, ctx)
        advarsler[:] = list(getattr(fresh, "advarsler", []))
        return messages

    applied = _mutate(session, run_id, config, change, event.kind, source, event_params(event))
    assert applied is not None  # this change never declines
    applied.advarsler = advarsler
    return applied


def event_params(event: Event) -> dict[str, Any]:
    """An event as plain JSON for the event log."""
    params: dict[str, Any] = to_plain(event)
    params["type"] = event.kind
    return params


def submit_innsending(
    session: Session,
    run_id: str,
    config: EngineConfig,
    data: dict[str, Any],
    *,
    alias: str | None = None,
    source: str = "api",
) -> Innsending:
    """Register a submitted søknad; return it with its new innsendingReferanse.

    In a scenario run the innsending is bound to ``alias`` (a sandbox-submitted one) or to
    the next case innsending the scenario expects from the client.
    """
    created: list[Innsending] = []

    def change(sak: Sak, timeline: dict[str, Any], ctx: RunContext) -> list[Any]:
        if data.get("kommunenummer") not in (None, sak.kommunenummer):
            message = (
                f"Søknaden er adressert til kommune {data['kommunenummer']}, men denne "
                f"kjøringen spiller {sak.kommunenavn} kommune ({sak.kommunenummer})."
            )
            raise ValidationFailed(
                message, [Problem("innsending.kommunenummer.feil", "kommunenummer", message)]
            )
        while True:
            referanse = ctx.data.innsendingsreferanse()
            if referanse not in sak.references():
                break
        innsending = Innsending(
            innsendingReferanse=referanse,
            ftBID=data.get("ftBID") or ctx.data.ftbid(),
            soknadstype=data["soknadstype"],
            tiltakstyper=list(data["tiltakstype"]),
            mottattDato=ctx.now,
            dokumenter=[
                d if isinstance(d, MottattDokument) else from_plain(MottattDokument, d)
                for d in data["dokumenter"]
            ],
            tittel=data.get("tittel"),
        )
        sak.innsendinger.append(innsending)
        created[:] = [innsending]
        _bind_alias(ctx.run, timeline, referanse, alias)
        return []

    _mutate(session, run_id, config, change, "innsending", source, to_plain(data))
    return created[0]


def _bind_alias(run: Run, timeline: dict[str, Any], referanse: str, alias: str | None) -> None:
    if run.scenario is None:
        return
    aliases: dict[str, str] = timeline.setdefault("aliases", {})
    if alias is None:
        expected = [
            i["id"]
            for i in (run.scenario.get("case") or {}).get("innsendinger") or []
            if i.get("innsendt_av") == "client"
        ]
        alias = next((a for a in expected if a not in aliases), None)
    if alias is not None:
        aliases[alias] = referanse


def new_supplering_ref(session: Session, run_id: str) -> str:
    """A reference for an incoming supplering, unique within the run."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"Kjøringen {run_id} finnes ikke.")
    sak = load_sak(run)
    data = SyntheticData(f"{run.seed}:supplering:{run.version}")
    while True:
        referanse = data.innsendingsreferanse()
        if referanse not in sak.references():
            return referanse


# ---- what a client may read ---------------------------------------------------------


def innsending_of(sak: Sak, referanse: str | None) -> Innsending:
    """The case's innsending for ``referanse``, or a 404 that reveals nothing about other runs."""
    if not referanse:
        message = "Du må oppgi innsendingReferanse."
        raise ValidationFailed(
            message, [Problem("innsendingReferanse.påkrevd", "innsendingReferanse", message)]
        )
    innsending = sak.innsending(referanse)
    if innsending is None:
        message = f"Fant ingen innsending med innsendingReferanse {referanse}."
        raise NotFound(
            message, [Problem("innsendingReferanse.ukjent", "innsendingReferanse", message)]
        )
    return innsending


def kvittering_for(session: Session, run: Run, referanse: str | None) -> dict[str, Any]:
    """The stored kvittering, or 404 while the innsending is not journalført."""
    row = session.get(KvitteringRow, (run.id, referanse)) if referanse else None
    if row is not None:  # the hot path: one primary-key read
        return row.payload
    innsending = innsending_of(load_sak(run), referanse)
    message = (
        f"Innsendingen {innsending.innsendingReferanse} er mottatt, men ikke journalført "
        "ennå; kvitteringen kommer når kommunen har registrert den."
    )
    raise NotFound(message, [Problem("kvittering.ikke_registrert", "innsendingReferanse", message)])


def oppdateringer_for(
    session: Session, run: Run, sak: Sak, referanse: str | None
) -> list[dict[str, Any]]:
    """Every oppdatering for the reference, in sekvensnummer order."""
    innsending = innsending_of(sak, referanse)
    rows = session.scalars(
        select(OppdateringRow).where(OppdateringRow.run_id == run.id).order_by(OppdateringRow.seq)
    )
    return [r.payload for r in rows if innsending.innsendingReferanse in r.references]


def status_for(
    session: Session, run: Run, sak: Sak, referanse: str | None, config: EngineConfig
) -> dict[str, Any]:
    """The current view of one innsending."""
    innsending = innsending_of(sak, referanse)
    now = clock_of(run).now()
    seqs = [
        seq
        for seq, refs in session.execute(
            select(OppdateringRow.seq, OppdateringRow.references).where(
                OppdateringRow.run_id == run.id
            )
        )
        if innsending.innsendingReferanse in refs
    ]
    payload = render.status_json(
        sak,
        innsending,
        now,
        len(seqs),
        max(seqs) if seqs else None,
        innsending.utgaaendeDokumenter,
        config.base_url,
    )
    _ensure_valid("status", payload, now)
    return payload


def dokument_for(
    session: Session, run: Run, dokument_id: str, lifetime: timedelta | None = None
) -> DokumentRow:
    """The stored letter; 410 once its 30 days (or a fault's ``lifetime``) are over."""
    row = session.get(DokumentRow, (run.id, dokument_id))
    if row is None:
        message = f"Fant ikke dokument {dokument_id}."
        raise NotFound(message, [Problem("dokument.ukjent", "dokumentId", message)])
    now = clock_of(run).now()
    expires = aware(row.expires_virtual)
    if lifetime is not None:
        expires = min(expires, aware(row.created_virtual) + lifetime)
    if now >= expires:
        message = (
            f"Dokument {dokument_id} ble slettet {iso(expires)}; dokumentformidleren "
            "tar vare på dokumenter i 30 dager."
        )
        raise Gone(message, [Problem("dokument.slettet", "dokumentId", message)])
    return row


def advance_clock(session: Session, run_id: str, delta: timedelta) -> datetime:
    """Move a run's virtual clock forward by ``delta``; return the new virtual time."""
    for attempt in range(MAX_ATTEMPTS):
        session.rollback()
        if attempt:
            time.sleep(random.uniform(0.001, 0.005 * min(attempt, 10)))
        run = session.get(Run, run_id, populate_existing=True, with_for_update=True)
        if run is None:
            raise NotFound(f"Kjøringen {run_id} finnes ikke.")
        clock = clock_of(run)
        new_time = clock.advance(delta)
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.version == run.version)
            .values(
                clock_virtual_anchor=clock.virtual_anchor,
                clock_real_anchor=clock.real_anchor,
                version=run.version + 1,
            )
        )
        if getattr(result, "rowcount", 0) == 1:
            session.commit()
            return new_time
    raise Conflict("Klokken endres av mange samtidig; prøv igjen.")
