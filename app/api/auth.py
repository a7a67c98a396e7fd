"""HTTP Basic authentication with a run's credentials: the credentials name the run.

A request that fails authentication is never the run's: it is answered 401 and counted
apart (``app.store.auth_failures``), so it cannot enter the run's journal, its checks or
its triggers, whoever knows the run's username.
"""

from __future__ import annotations

from flask import current_app, g, request

from app.engine.clock import utcnow
from app.engine.credentials import password_matches
from app.engine.snapshots import RunHead, head_by_username
from app.errors import AuthenticationRequired, Problem
from app.wire.dates import iso

REALM = 'Basic realm="byggesak-sandbox", charset="UTF-8"'
CHECKED = "auth_checked"  # g: this request's credentials were judged already
PATH_KEPT = 200  # characters of a failed attempt's path kept


def refuse(message: str) -> AuthenticationRequired:
    """A 401 that asks for the run's credentials."""
    return AuthenticationRequired(
        message, [Problem("autentisering", "Authorization", message)], {"WWW-Authenticate": REALM}
    )


def current_head() -> RunHead:
    """The head of the run whose credentials the request carries; 401 when none or wrong."""
    g.setdefault(CHECKED, True)
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        raise refuse("Du må logge inn med kjøringens brukernavn og passord (HTTP Basic).")
    head = head_by_username(current_app.extensions["sandbox.engine"], auth.username)
    if head is None:
        raise refuse("Feil brukernavn eller passord.")
    if not password_matches(head.password_sha256, auth.password or ""):
        record_failure(head.id)
        raise refuse("Feil brukernavn eller passord.")
    g.journal_run_id = head.id
    return head


def authenticated_run_id() -> str | None:
    """For a request no view authenticated (an unknown path, a wrong method): the run its
    credentials prove, or None; a wrong password is counted as a failure, never journalled."""
    if g.get(CHECKED):
        return None
    g.setdefault(CHECKED, True)
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    head = head_by_username(current_app.extensions["sandbox.engine"], auth.username)
    if head is None:
        return None
    if not password_matches(head.password_sha256, auth.password or ""):
        record_failure(head.id)
        return None
    return head.id


def record_failure(run_id: str) -> None:
    """Count a wrong password for ``run_id`` apart from its journal."""
    now = utcnow()
    attempt = {
        "at": iso(now),
        "method": request.method,
        "path": request.path[:PATH_KEPT],
        "remote": request.remote_addr or "",
    }
    current_app.extensions["sandbox.auth_failures"].record(run_id, now, attempt)
