"""HTTP Basic authentication with a run's credentials: the credentials name the run."""

from __future__ import annotations

from flask import current_app, g, request

from app.engine.credentials import password_matches
from app.engine.snapshots import RunHead, head_by_username
from app.errors import AuthenticationRequired, Problem

REALM = 'Basic realm="byggesak-sandbox", charset="UTF-8"'


def refuse(message: str) -> AuthenticationRequired:
    """A 401 that asks for the run's credentials."""
    return AuthenticationRequired(
        message, [Problem("autentisering", "Authorization", message)], {"WWW-Authenticate": REALM}
    )


def current_head() -> RunHead:
    """The head of the run whose credentials the request carries; 401 when none or wrong."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        raise refuse("Du må logge inn med kjøringens brukernavn og passord (HTTP Basic).")
    head = head_by_username(current_app.extensions["sandbox.engine"], auth.username)
    if head is not None:
        # Record the attempt in the run's journal even when the password is wrong.
        g.journal_run_id = head.id
    if head is None or not password_matches(head.password_sha256, auth.password or ""):
        raise refuse("Feil brukernavn eller passord.")
    return head
