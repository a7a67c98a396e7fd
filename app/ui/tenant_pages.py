"""A tenant's login in the UI: its own credentials, not the admin token, and its runs only.

A tenant's session opens these pages and no other: every other page still asks for the
admin token when one is set. The list shows the tenant's runs and nothing of another's.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from app.control.tenant_runs import run_row
from app.engine import tenants
from app.engine.clock import utcnow
from app.store.db import get_session
from app.store.models import Run
from app.ui import session as ui_session
from app.wire.dates import iso

ENDPOINTS = ("ui.tenant_login", "ui.tenant_runs")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def guard() -> WerkzeugResponse | tuple[str, int] | None:
    """For the tenant pages: refuse forged forms; the runs page needs a tenant's session."""
    if request.method not in SAFE_METHODS:
        reason = ui_session.forged()
        if reason is not None:
            return render_template("ui/error.html", message=reason), 403
    if request.endpoint == "ui.tenant_runs" and ui_session.tenant() is None:
        return redirect(url_for("ui.tenant_login"))
    return None


def register(bp: Blueprint) -> None:
    """Add the tenant pages to the UI's blueprint."""
    bp.add_url_rule("/tenant/login", "tenant_login", login, methods=["GET", "POST"])
    bp.add_url_rule("/tenant", "tenant_runs", runs)


def login() -> WerkzeugResponse | tuple[str, int] | str:
    """Sign in with a tenant's username and password."""
    if request.method == "GET":
        return render_template("ui/tenant_login.html", error=None)
    engine = current_app.extensions["sandbox.engine"]
    found = tenants.login_of(engine, request.form.get("username", ""))
    if found is None or not tenants.password_ok(found, request.form.get("password", "")):
        if found is not None:  # counted apart, as on the API; never in a journal
            attempt = {"at": iso(utcnow()), "method": "POST", "path": request.path, "remote": ""}
            current_app.extensions["sandbox.auth_failures"].record(
                f"tenant:{found.name}", utcnow(), attempt
            )
        return render_template("ui/tenant_login.html", error="Wrong username or password."), 401
    ui_session.begin(ui_session.tenant_kind(found.name))
    return redirect(url_for("ui.tenant_runs"))


def runs() -> str:
    """The signed-in tenant's runs, newest first."""
    name = ui_session.tenant()
    assert name is not None  # the guard let only a tenant's session in
    session = get_session()
    tenant = tenants.tenant_or_404(session, name)
    kept = tenants.retention_of(tenant)
    rows = session.scalars(
        select(Run).where(Run.tenant == name).order_by(Run.created_at.desc()).limit(500)
    ).all()
    return render_template(
        "ui/tenant_runs.html", tenant=tenant, runs=[run_row(r, kept) for r in rows]
    )
