"""HTTP Basic authentication with a run's credentials: the credentials name the run.

A request that fails authentication is never the run's: it is answered 401 and counted
apart (``app.store.auth_failures``), so it cannot enter the run's journal, its checks or
its triggers, whoever knows the run's username.
"""

from __future__ import annotations

from flask import current_app, g, request

from app.api.tenant_auth import head_of_tenant_run
from app.engine import tenants
from app.engine.clock import utcnow
from app.engine.credentials import password_matches
from app.engine.snapshots import RunHead, head_by_username
from app.engine.tenants import TenantLogin, password_ok
from app.errors import AuthenticationRequired, Problem
from app.store.auth_failures import TENANT_KEY
from app.wire.dates import iso

REALM = 'Basic realm="byggesak-sandbox", charset="UTF-8"'
CHECKED = "auth_checked"  # g: this request's credentials were judged already
PATH_KEPT = 200  # characters of a failed attempt's path kept
TENANT_RUN = "tenant_run"  # g: the head of the run a tenant's write goes to (started or named)


def refuse(message: str) -> AuthenticationRequired:
    """A 401 that asks for the run's credentials."""
    return AuthenticationRequired(
        message, [Problem("autentisering", "Authorization", message)], {"WWW-Authenticate": REALM}
    )


def current_head() -> RunHead:
    """The head of the run whose credentials the request carries; 401 when none or wrong.

    A tenant's credentials name no run: the request's reference does, among the tenant's
    runs (404 for any other), after a run's own username was looked for first.
    """
    started = g.get(TENANT_RUN)
    if started is not None:  # a tenant's søknad that has just started its run
        g.journal_run_id = started.id
        return started  # type: ignore[no-any-return]
    g.setdefault(CHECKED, True)
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        raise refuse("Du må logge inn med kjøringens brukernavn og passord (HTTP Basic).")
    engine = current_app.extensions["sandbox.engine"]
    head = head_by_username(engine, auth.username)
    if head is None:
        login = authenticated_tenant()
        if login is None:
            raise refuse("Feil brukernavn eller passord.")
        head = head_of_tenant_run(engine, login.name)
        g.journal_run_id = head.id
        return head
    if not password_matches(head.password_sha256, auth.password or ""):
        record_failure(head.id)
        raise refuse("Feil brukernavn eller passord.")
    g.journal_run_id = head.id
    return head


def authenticated_tenant() -> TenantLogin | None:
    """The tenant whose credentials the request carries; None when they are a run's (or
    no one's); 401 for a tenant's username with a wrong password (counted, never journalled)."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        raise refuse("Du må logge inn med kjøringens brukernavn og passord (HTTP Basic).")
    g.setdefault(CHECKED, True)
    login = tenants.login_of(current_app.extensions["sandbox.engine"], auth.username)
    if login is None:
        return None
    if not password_ok(login, auth.password or ""):
        record_failure(TENANT_KEY + login.name)
        raise refuse("Feil brukernavn eller passord.")
    g.tenant = login.name
    return login


def authenticated_run_id() -> str | None:
    """For a request no view authenticated (an unknown path, a wrong method): the run its
    credentials prove, or None; a wrong password is counted as a failure, never journalled."""
    if g.get(CHECKED):
        return None
    g.setdefault(CHECKED, True)
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    engine = current_app.extensions["sandbox.engine"]
    head = head_by_username(engine, auth.username)
    if head is None:
        login = tenants.login_of(engine, auth.username)
        if login is not None and not password_ok(login, auth.password or ""):
            record_failure(TENANT_KEY + login.name)
        return None  # a tenant's request names no run until a view reads its reference
    if not password_matches(head.password_sha256, auth.password or ""):
        record_failure(head.id)
        return None
    return head.id


def record_failure(run_id: str) -> None:
    """Count a wrong password for ``run_id`` (or a ``tenant:`` key) apart from any journal."""
    now = utcnow()
    attempt = {
        "at": iso(now),
        "method": request.method,
        "path": request.path[:PATH_KEPT],
        "remote": request.remote_addr or "",
    }
    current_app.extensions["sandbox.auth_failures"].record(run_id, now, attempt)
