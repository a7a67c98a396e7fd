"""HTTP Basic authentication with a run's credentials: the credentials name the run."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from app.engine.runs import password_matches
from app.errors import AuthenticationRequired, Problem
from app.store.db import get_session
from app.store.models import Run

REALM = 'Basic realm="byggesak-sandbox", charset="UTF-8"'


def _refuse(message: str) -> AuthenticationRequired:
    return AuthenticationRequired(
        message, [Problem("autentisering", "Authorization", message)], {"WWW-Authenticate": REALM}
    )


def current_run() -> Run:
    """The run whose credentials the request carries; 401 when there are none or they are wrong."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        raise _refuse("Du må logge inn med kjøringens brukernavn og passord (HTTP Basic).")
    session = get_session()
    run = session.scalars(select(Run).where(Run.username == auth.username)).first()
    if run is not None:
        # Record the attempt in the run's journal even when the password is wrong.
        g.journal_run_id = run.id
    if run is None or not password_matches(run, auth.password or ""):
        raise _refuse("Feil brukernavn eller passord.")
    return run
