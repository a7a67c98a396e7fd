"""A tenant's pages in the UI: its own credentials, not the admin token, and its runs only.

A tenant's session opens these pages and no other: every other page still asks for the
admin token when one is set. The list shows the tenant's runs and nothing of another's;
a run page of another tenant's run, or of a run of no tenant, is the 404 of a run that
does not exist. The run pages are the admin's (app.ui.run_views) without the kommune's
hand controls, and with "Finish and score now".
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from app.control import actions
from app.control.tenant_runs import run_row
from app.engine import tenants
from app.engine.clock import utcnow
from app.scenarios.registry import get_registry
from app.store.db import get_session
from app.store.models import Run
from app.ui import login_limits, run_views
from app.ui import session as ui_session
from app.wire.dates import iso

ENDPOINTS = (
    "ui.tenant_login",
    "ui.tenant_logout",
    "ui.tenant_runs",
    "ui.tenant_next",
    "ui.tenant_run",
    "ui.tenant_live",
    "ui.tenant_exchanges",
    "ui.tenant_report",
    "ui.tenant_finish",
)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def guard() -> WerkzeugResponse | tuple[str, int] | None:
    """For the tenant pages: refuse forged forms; all but the login need a tenant's session."""
    if request.method not in SAFE_METHODS:
        reason = ui_session.forged()
        if reason is not None:
            return render_template("ui/error.html", message=reason), 403
    if request.endpoint != "ui.tenant_login" and ui_session.tenant() is None:
        return redirect(url_for("ui.tenant_login"))
    return None


def register(bp: Blueprint) -> None:
    """Add the tenant pages to the UI's blueprint."""
    bp.add_url_rule("/tenant/login", "tenant_login", login, methods=["GET", "POST"])
    bp.add_url_rule("/tenant/logout", "tenant_logout", logout, methods=["POST"])
    bp.add_url_rule("/tenant", "tenant_runs", runs)
    bp.add_url_rule("/tenant/next", "tenant_next", pick_next, methods=["POST"])
    bp.add_url_rule("/tenant/runs/<run_id>", "tenant_run", run)
    bp.add_url_rule("/tenant/runs/<run_id>/live", "tenant_live", live)
    bp.add_url_rule("/tenant/runs/<run_id>/exchanges", "tenant_exchanges", exchanges)
    bp.add_url_rule("/tenant/runs/<run_id>/report.<fmt>", "tenant_report", report)
    bp.add_url_rule("/tenant/runs/<run_id>/finish", "tenant_finish", finish, methods=["POST"])


def login() -> WerkzeugResponse | tuple[str, int] | tuple[str, int, dict[str, str]] | str:
    """Sign in with a tenant's username and password."""
    if request.method == "GET":
        return render_template("ui/tenant_login.html", error=None)
    username = request.form.get("username", "")
    refused = login_limits.refusal("ui/tenant_login.html", username)
    if refused is not None:
        return refused
    engine = current_app.extensions["sandbox.engine"]
    found = tenants.login_of(engine, username)
    if found is None or not tenants.password_ok(found, request.form.get("password", "")):
        login_limits.failed(username)
        if found is not None:  # counted apart, as on the API; never in a journal
            attempt = {"at": iso(utcnow()), "method": "POST", "path": request.path, "remote": ""}
            current_app.extensions["sandbox.auth_failures"].record(
                f"tenant:{found.name}", utcnow(), attempt
            )
        return render_template("ui/tenant_login.html", error="Wrong username or password."), 401
    login_limits.succeeded(username)
    ui_session.begin(ui_session.tenant_kind(found.name))
    return redirect(url_for("ui.tenant_runs"))


def logout() -> WerkzeugResponse:
    """End the tenant's session."""
    ui_session.begin(ui_session.OPEN)
    return redirect(url_for("ui.tenant_login"), code=303)


def _signed_in() -> str:
    name = ui_session.tenant()
    assert name is not None  # the guard let only a tenant's session in
    return name


def runs() -> str:
    """The signed-in tenant's runs, newest first, and the pick for its next søknad."""
    session = get_session()
    tenant = tenants.tenant_or_404(session, _signed_in())
    kept = tenants.retention_of(tenant)
    rows = session.scalars(
        select(Run).where(Run.tenant == tenant.name).order_by(Run.created_at.desc()).limit(500)
    ).all()
    return render_template(
        "ui/tenant_runs.html",
        tenant=tenant,
        runs=[run_row(r, kept) for r in rows],
        scenarios=sorted(get_registry().catalogue().entries),
    )


def pick_next() -> WerkzeugResponse:
    """Pick (or clear) the scenario the tenant's next søknad plays."""
    actions.pick_next(_signed_in(), request.form.get("scenario") or None)
    return redirect(url_for("ui.tenant_runs"), code=303)


def _own_run(run_id: str) -> Run:
    """The signed-in tenant's run, caught up; any other run is as unknown as a missing one."""
    session = get_session()
    session.rollback()
    found = session.get(Run, run_id)
    if found is None or found.tenant is None or found.tenant != _signed_in():
        raise actions.unknown_run(run_id)
    return actions.caught_up(run_id)


def run(run_id: str) -> str:
    """The page of one of the tenant's runs."""
    return run_views.run_page(_own_run(run_id), run_views.TENANT)


def live(run_id: str) -> Response:
    """The live part of the tenant's run page; 304 when unchanged."""
    return run_views.live_fragment(_own_run(run_id), run_views.TENANT)


def exchanges(run_id: str) -> str:
    """Every exchange of the tenant's run, oldest first."""
    return run_views.exchanges_page(_own_run(run_id), run_views.TENANT)


def report(run_id: str, fmt: str) -> Response | tuple[str, int]:
    """A report of the tenant's run, shown in the browser (``?download=1``: as a file)."""
    return run_views.report(_own_run(run_id), fmt)


def finish(run_id: str) -> WerkzeugResponse:
    """Finish the tenant's run now, so that its verdicts are final."""
    actions.finish(_own_run(run_id).id)
    return redirect(url_for("ui.tenant_run", run_id=run_id), code=303)
