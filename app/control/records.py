"""Control plane for what a run has recorded: the case with its event log, and the journal."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from app.config import engine_config
from app.control.actions import caught_up, run_or_404
from app.control.auth import require_admin
from app.control.runs import summary
from app.domain.plain import to_plain
from app.engine.reads import load_sak
from app.errors import Problem, ValidationFailed
from app.openapi_docs import UNKNOWN_RUN, doc, query
from app.store import journal_reads
from app.store.db import get_session
from app.store.journal_reads import entry_json as journal_json
from app.store.models import EventLog
from app.wire.dates import iso

bp = Blueprint("control_records", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)
MAX_ETTER = 2**62
MAX_LIMIT = 5000


@bp.get("/runs/<run_id>/case")
@doc("The case and event log", responses={"200": "Case", "404": UNKNOWN_RUN})
def get_case(run_id: str) -> Response:
    """The case as the kommune sees it, with the event log."""
    run = caught_up(run_id)
    session = get_session()
    events = session.scalars(
        select(EventLog).where(EventLog.run_id == run_id).order_by(EventLog.seq)
    )
    return jsonify(
        {
            "run": summary(run, engine_config()),
            "sak": to_plain(load_sak(run)),
            "hendelser": [
                {
                    "sekvensnummer": e.seq,
                    "type": e.kind,
                    "kilde": e.source,
                    "virtuellTid": iso(e.virtual_time),
                    "params": e.params,
                }
                for e in events
            ],
        }
    )


def _int_arg(name: str, default: int, maximum: int, minimum: int = 0) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        message = f"'{name}' må være et heltall fra {minimum} til {maximum}, ikke '{raw}'."
        raise ValidationFailed(message, [Problem(f"journal.{name}.format", name, message)])
    return int(raw)


@bp.get("/runs/<run_id>/journal")
@doc(
    "Recorded exchanges",
    parameters=[
        query(
            "etter",
            "Only entries after this entry id.",
            {"type": "integer", "minimum": 0, "maximum": MAX_ETTER},
        ),
        query(
            "limit",
            "At most this many entries (default 500).",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        ),
    ],
    responses={
        "200": "Journal entries; `next` is the id to page on from, or null",
        "400": "etter or limit not a whole number in range",
        "404": UNKNOWN_RUN,
    },
)
def get_journal(run_id: str) -> Response:
    """The run's exchanges in order; page with ``etter`` (an entry id) and ``limit``."""
    run_or_404(run_id)
    etter = _int_arg("etter", 0, MAX_ETTER)
    limit = _int_arg("limit", 500, MAX_LIMIT, minimum=1)
    entries = journal_reads.entries(get_session(), run_id, after=etter, limit=limit)
    return jsonify(
        {
            "entries": [journal_json(e) for e in entries],
            "next": entries[-1].id if len(entries) == limit else None,
        }
    )
