"""The UI's sign-in limit: too many failures for a username, or from an address, is a 429.

The bounds are in app.limits, the window in ``LOGIN_WINDOW_SECONDS``. A refused sign-in
is answered before the password (or the admin token) is looked at, with ``Retry-After``
and the sign-in page saying when to try again. The admin's sign-in has no username and
counts by address only: a username bound on it would let anyone lock the admin out.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template, request

from app import limits
from app.engine.clock import utcnow
from app.store import login_failures
from app.store.db import get_session


def _window() -> timedelta:
    return timedelta(seconds=int(current_app.config["LOGIN_WINDOW_SECONDS"]))


def _bounds(username: str | None) -> dict[str, int]:
    address = login_failures.key_of("addr", request.remote_addr or "")
    bounds = {address: limits.LOGIN_FAILURES_PER_ADDRESS}
    if username is not None:
        bounds[login_failures.key_of("user", username)] = limits.LOGIN_FAILURES_PER_USERNAME
    return bounds


def refusal(template: str, username: str | None) -> tuple[str, int, dict[str, str]] | None:
    """The 429 page for a sign-in past the limit, or None when it may be tried."""
    wait = login_failures.retry_after(get_session(), _bounds(username), utcnow(), _window())
    if wait is None:
        return None
    minutes = max(1, round(wait / 60))
    when = f"{wait} seconds" if wait < 120 else f"about {minutes} minutes"
    error = f"Too many failed sign-ins. Try again in {when}."
    return render_template(template, error=error), 429, {"Retry-After": str(wait)}


def failed(username: str | None) -> None:
    """Count a failed sign-in for the username (if any) and the remote address."""
    login_failures.count_failure(get_session(), list(_bounds(username)), utcnow(), _window())


def succeeded(username: str) -> None:
    """A username that signed in starts afresh (its address's count stays)."""
    login_failures.forget(get_session(), login_failures.key_of("user", username))
