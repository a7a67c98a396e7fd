"""What a client may read of a run: its case, kvitteringer, oppdateringer, status, letters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.domain.case import Innsending, Sak
from app.domain.plain import from_plain
from app.engine.clock import aware, clock_of
from app.engine.settings import EngineConfig
from app.errors import Gone, NotFound, Problem, ValidationFailed
from app.store.models import DokumentRow, KvitteringRow, OppdateringRow, Run
from app.wire import emit
from app.wire.dates import iso


def load_sak(run: Run) -> Sak:
    """The run's case aggregate."""
    return from_plain(Sak, run.state)


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


def kvittering_for(session: Session, run: Run, sak: Sak, referanse: str | None) -> dict[str, Any]:
    """The stored kvittering, or 404 while the innsending is not journalført.

    Journalført as of ``sak`` (the run at the version being served): a kvittering written
    since is not yet there, or the answer would carry a virtual time before its step.
    """
    innsending = innsending_of(sak, referanse)
    if innsending.journalfort:
        row = session.get(KvitteringRow, (run.id, innsending.innsendingReferanse))
        if row is not None:
            return row.payload
    message = (
        f"Innsendingen {innsending.innsendingReferanse} er mottatt, men ikke journalført "
        "ennå; kvitteringen kommer når kommunen har registrert den."
    )
    raise NotFound(message, [Problem("kvittering.ikke_registrert", "innsendingReferanse", message)])


def _as_of(run: Run) -> ColumnElement[bool]:
    """The oppdateringer the run had at the version being served (none written since)."""
    return (OppdateringRow.run_id == run.id) & (OppdateringRow.seq <= run.oppdatering_seq)


def oppdateringer_for(
    session: Session, run: Run, sak: Sak, referanse: str | None
) -> list[dict[str, Any]]:
    """Every oppdatering for the reference, in sekvensnummer order."""
    innsending = innsending_of(sak, referanse)
    rows = session.scalars(select(OppdateringRow).where(_as_of(run)).order_by(OppdateringRow.seq))
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
            select(OppdateringRow.seq, OppdateringRow.references).where(_as_of(run))
        )
        if innsending.innsendingReferanse in refs
    ]
    return emit.status(
        sak,
        innsending,
        now,
        len(seqs),
        max(seqs) if seqs else None,
        innsending.utgaaendeDokumenter,
        config.base_url,
    )


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
