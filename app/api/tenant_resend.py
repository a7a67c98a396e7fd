"""A tenant's søknad sent again: within the window it gets the first answer, and no new run.

Sandbox choice (docs/wire-contract.md, "A tenant's søknad sent again"): the same canonical body
from the same tenant within ``limits.TENANT_RESEND_WINDOW`` of wall time is that søknad
sent again (the client lost the answer): it gets the first answer byte for byte with
``X-Sandbox-Gjentatt-Fra``, journalled in the first søknad's run, and no run is started.
After the window it is a new søknad with a run of its own: a tester who reuses a test
søknad another day wants a new case. Two copies sent at once start one run: each claims
the body's digest for the run it started (``app.engine.tenant_soknader``); the one that
loses discards its run and waits for the winner's answer.
"""

from __future__ import annotations

import hashlib
import time

from flask import Response, current_app, g, request

from app import limits
from app.api.resend import replay
from app.engine import tenant_soknader
from app.engine.clock import utcnow
from app.errors import Conflict, Problem
from app.store import journal_reads
from app.store.db import get_session
from app.wire.inputs.canonical import accepted_text

WAIT_SECONDS = 10.0  # how long a copy waits for the answer to the first one
WAIT_STEP = 0.05


class TenantResend:
    """This request's søknad, by its canonical body, among the tenant's recent ones."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        loaded = g.get("loaded_body")
        canonical = accepted_text(*loaded) if loaded is not None else None
        if canonical is not None and len(canonical) > int(current_app.config["JOURNAL_BODY_CAP"]):
            canonical = None  # the journal does not keep it, so no answer could be found by it
        self.canonical = canonical
        self.digest = hashlib.sha256(canonical.encode()).hexdigest() if canonical else None

    def earlier(self) -> Response | None:
        """The first answer to this søknad if it came within the window (waiting while its
        run is still answering it); None when it is a new søknad."""
        if self.digest is None or self.canonical is None:
            return None
        session = get_session()
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            since = utcnow() - limits.TENANT_RESEND_WINDOW
            held = tenant_soknader.holder(session, self.tenant, self.digest, since)
            if held is None:
                return None
            entry = journal_reads.first_answer(
                session, held, request.method, request.path, self.canonical
            )
            answer = replay(entry) if entry is not None else None
            session.rollback()  # the next look sees what other requests committed
            if answer is not None:
                g.journal_run_id = held
                return answer
            if time.monotonic() > deadline:
                message = "Den samme søknaden er fortsatt under behandling; send den igjen om litt."
                raise Conflict(message, [Problem("innsending.under_behandling", "$", message)])
            time.sleep(WAIT_STEP)

    def claim(self, run_id: str) -> bool:
        """Claim this søknad for the run just started; False when a copy holds it already."""
        if self.digest is None:
            return True
        now = utcnow()
        since = now - limits.TENANT_RESEND_WINDOW
        return tenant_soknader.claim(get_session(), self.tenant, self.digest, run_id, now, since)
