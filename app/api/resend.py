"""A client write sent again: the same body gets the first answer, and nothing is applied twice.

A client that lost the answer to a supplering or an innsending (a timeout, a crash on
either side) sends it again. DiBK does not say what a second copy does; the sandbox
treats a body whose canonical form (as the API's schema loaded it) equals that of an
earlier successful write of the same method and path in the same run as that write
again: it answers with the first answer, byte for byte, plus ``X-Sandbox-Gjentatt-Fra``
naming the journal entry it repeats, and applies nothing. The resend is journalled as an
exchange of its own, marked ``replay_of``, so triggers and request counts do not count it.
"""

from __future__ import annotations

from flask import Response, g, request
from sqlalchemy.orm import Session

from app.store import journal_reads
from app.store.models import JournalEntry
from app.wire.inputs.canonical import accepted_text

REPLAY_HEADER = "X-Sandbox-Gjentatt-Fra"
_KEPT_HEADERS = ("Location",)


class Resend:
    """The check a write view hands to the engine, and the earlier answer once found."""

    def __init__(self, session: Session, run_id: str) -> None:
        self.session = session
        self.run_id = run_id
        self.answer: Response | None = None
        loaded = g.get("loaded_body")
        self.canonical = accepted_text(*loaded) if loaded is not None else None

    def __call__(self) -> bool:
        """True when this body was answered before in this run (the answer is kept)."""
        self.answer = None
        if self.canonical is None:
            return False
        entry = journal_reads.first_answer(
            self.session, self.run_id, request.method, request.path, self.canonical
        )
        self.answer = replay(entry) if entry is not None else None
        return self.answer is not None


def replay(entry: JournalEntry) -> Response | None:
    """The answer ``entry`` gave, again, naming it in ``X-Sandbox-Gjentatt-Fra`` (and
    journalled as its replay); None when the journal did not keep it whole."""
    if entry.response_body_truncated or entry.response_body is None:
        return None
    response = Response(
        entry.response_body,
        status=entry.status,
        mimetype=(entry.response_headers or {}).get("Content-Type", "application/json"),
    )
    for name in _KEPT_HEADERS:
        value = (entry.response_headers or {}).get(name)
        if value is not None:
            response.headers[name] = value
    response.headers[REPLAY_HEADER] = str(entry.id)
    g.journal_replay_of = entry.id
    return response
