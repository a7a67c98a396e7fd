"""Changes to a run's case: kommune events and the client's søknader, applied exactly once.

A change loads the case, lets the domain event change it, emits what the client will
see (``app.wire.emit``: rendered and checked against DiBK's rules) and stores it all
through the one write transaction (``app.engine.apply``).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain import answers, codes
from app.domain.case import Innsending, Kontaktpunkt, MottattDokument, Sak, UtgaaendeDokument
from app.domain.events import Event, MottaSupplering
from app.domain.messages import Kvittering, Oppdatering
from app.domain.plain import from_plain, to_plain
from app.engine import tenant_references
from app.engine.apply import Write, write_run
from app.engine.clock import clock_of, utcnow
from app.engine.pdf import render_letter
from app.engine.reads import load_sak
from app.engine.settings import EngineConfig
from app.errors import Problem, ValidationFailed
from app.scenarios.model import scenario_of
from app.store.models import DokumentRow, EventLog, KvitteringRow, OppdateringRow, Run
from app.testdata.no_provider import SyntheticData, kommuner
from app.wire import emit
from app.wire.dates import iso


@dataclass
class Applied:
    """What one event produced."""

    kind: str
    seq: int
    virtual_time: datetime
    kvitteringer: list[dict[str, Any]] = field(default_factory=list)
    oppdateringer: list[dict[str, Any]] = field(default_factory=list)
    advarsler: list[str] = field(default_factory=list)
    completes: bool = False  # a supplering that made the søknad complete
    referanse: str | None = None  # a supplering's suppleringReferanse, drawn as it was written

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
        self.rows: list[Any] = []  # other rows the change adds (a tenant's reference)

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
        if self.run.tenant is not None:
            # A tenant's polls find a letter by its id among all the tenant's runs; two
            # runs of one scenario (one seed) would otherwise publish the same ids.
            dokument_id = str(uuid.uuid5(uuid.UUID(dokument_id), self.run.id))
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


Change = Callable[[Sak, dict[str, Any], RunContext], list[Any] | None]
AfterRender = Callable[[dict[str, Any], Applied], None]
# The client's exchange that made the change, as a journal row (app.api.journal.entry_for).
Record = Callable[[Applied], dict[str, Any] | None]
# True when the client's write was made before (the same body sent again): nothing is
# written. Asked inside the write transaction, so two copies sent at once apply once.
Replayed = Callable[[], bool]


def mutate(
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
    record: Record | None = None,
    replayed: Replayed | None = None,
) -> Applied | None:
    """Load, change, emit and store in one transaction; None when ``change`` declines.

    ``change`` returns the messages to send, or None when there is nothing to do (then
    nothing is written). ``at`` fixes the virtual time of the change (a scenario step
    fires at its due time, which may lie before the clock's now). ``record`` gives the
    journal entry of the client request that made the change, stored with it; when
    ``replayed`` says the request was answered before, nothing is written.
    """

    def decide(run: Run) -> Write | None:
        if replayed is not None and replayed():
            return None
        sak = load_sak(run)
        timeline = copy.deepcopy(dict(run.timeline or {}))
        now = at or clock_of(run).now()
        ctx = RunContext(run, sak, timeline, now, config)
        messages = change(sak, timeline, ctx)
        if messages is None:
            return None
        seq = run.version + 1
        applied = Applied(kind, seq, now)
        rows: list[Any] = [*ctx.documents, *ctx.rows]
        oppdatering_seq = run.oppdatering_seq
        for message in messages:
            if isinstance(message, Kvittering):
                payload = emit.kvittering(message, sak, now)
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
                payload = emit.oppdatering(message, sak, oppdatering_seq, now)
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
        values = {
            "state": to_plain(sak),
            "timeline": timeline,
            "rng_counter": run.rng_counter + 1,
            "oppdatering_seq": oppdatering_seq,
        }
        entry = record(applied) if record is not None else None
        return Write(values, rows, entry, applied)

    applied: Applied | None = write_run(session, run_id, decide, journal_cap=config.journal_cap)
    return applied


def apply_event(
    session: Session,
    run_id: str,
    config: EngineConfig,
    event: Event,
    source: str = "control",
    record: Record | None = None,
    replayed: Replayed | None = None,
) -> Applied | None:
    """Apply one kommune event (or a client's supplering) to a run, exactly once; None
    when ``replayed`` found the client's supplering answered before."""
    advarsler: list[str] = []
    completes: list[bool] = [False]
    referanse: list[str | None] = [None]
    params = event_params(event)

    def change(sak: Sak, _timeline: dict[str, Any], ctx: RunContext) -> list[Any]:
        fresh = copy.deepcopy(event)
        if isinstance(fresh, MottaSupplering) and not fresh.referanse:
            fresh.referanse = params["referanse"] = supplering_ref(sak, ctx)
            referanse[:] = [fresh.referanse]
        messages = fresh.apply(sak, ctx)
        advarsler[:] = list(getattr(fresh, "advarsler", []))
        completes[:] = [bool(getattr(fresh, "completes", False))]
        return messages

    def recorded(applied: Applied) -> dict[str, Any] | None:
        applied.advarsler = list(advarsler)
        applied.completes = completes[0]
        applied.referanse = referanse[0]
        return record(applied) if record is not None else None

    applied = mutate(
        session,
        run_id,
        config,
        change,
        event.kind,
        source,
        params,
        record=recorded,
        replayed=replayed,
    )
    assert applied is not None or replayed is not None  # the change itself never declines
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
    record: Callable[[Innsending], dict[str, Any] | None] | None = None,
    replayed: Replayed | None = None,
    referanse: str | None = None,
    advarsler: list[str] | None = None,
) -> Innsending | None:
    """Register a submitted søknad; return it with its new innsendingReferanse (None when
    ``replayed`` found it answered before).

    ``referanse`` is a reference reserved for it beforehand (a tenant's søknad); any other
    in a tenant's run is drawn at random and reserved with the change. The seeded one is
    drawn all the same, so the rest of the run's draws stay as the seed makes them.

    In a scenario run the innsending is bound to ``alias`` (a sandbox-submitted one) or to
    the next case innsending the scenario expects from the client. A follow-up is placed on
    the case its ``kommunensSaksnummer`` (or ``innsendingReferanse``) names and its answers taken (``advarsler`` gets
    what differs); DiBK's test kommunenumre stand for the run's kommune.
    """
    created: list[Innsending] = []
    warned: list[str] = []

    def change(sak: Sak, timeline: dict[str, Any], ctx: RunContext) -> list[Any]:
        if data.get("kommunenummer") not in (None, sak.kommunenummer, *codes.TEST_KOMMUNENUMRE):
            message = (
                f"Søknaden er adressert til kommune {data['kommunenummer']}, men denne "
                f"kjøringen spiller {sak.kommunenavn} kommune ({sak.kommunenummer})."
            )
            raise ValidationFailed(
                message, [Problem("innsending.kommunenummer.feil", "kommunenummer", message)]
            )
        while True:
            drawn = ctx.data.innsendingsreferanse()
            if drawn not in sak.references():
                break
        chosen = referanse or drawn
        if referanse is None and ctx.run.tenant is not None:
            reserved = tenant_references.draw(session, ctx.run.tenant, run_id, sak.references())
            ctx.rows.append(reserved)
            chosen = reserved.referanse
        innsending = Innsending(
            innsendingReferanse=chosen,
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
        svar = list(data.get("svar") or [])
        saksnummer = data.get("kommunensSaksnummer")
        named = data.get("innsendingReferanse")
        warned[:] = answers.follow_up(sak, innsending, saksnummer, svar, ctx.now, named)
        sak.innsendinger.append(innsending)
        created[:] = [innsending]
        _bind_alias(ctx.run, timeline, chosen, alias)
        return []

    def recorded(_applied: Applied) -> dict[str, Any] | None:
        if advarsler is not None:
            advarsler[:] = warned
        return record(created[0]) if record is not None else None

    def was_replayed() -> bool:
        created.clear()  # an earlier attempt's innsending was not stored
        return replayed is not None and replayed()

    params = to_plain(data)
    mutate(
        session,
        run_id,
        config,
        change,
        "innsending",
        source,
        params,
        record=recorded,
        replayed=was_replayed,
    )
    return created[0] if created else None


def _bind_alias(run: Run, timeline: dict[str, Any], referanse: str, alias: str | None) -> None:
    if run.scenario is None:
        return
    aliases: dict[str, str] = timeline.setdefault("aliases", {})
    if alias is None:
        expected = scenario_of(run).client_innsendinger()
        alias = next((a for a in expected if a not in aliases), None)
    if alias is not None:
        aliases[alias] = referanse


def supplering_ref(sak: Sak, ctx: RunContext) -> str:
    """A reference for an incoming supplering, unique within the run, drawn in its write
    (two suppleringer sent at once get two)."""
    while True:
        referanse = ctx.data.innsendingsreferanse()
        if referanse not in sak.references():
            return referanse
