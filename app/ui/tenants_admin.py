"""The admin's view of every tenant: its settings, its runs, and the pick for its next søknad."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from app.control import actions
from app.control.tenant_runs import run_row
from app.engine import tenants
from app.scenarios.registry import get_registry
from app.store.db import get_session
from app.store.models import Run, Tenant

RUNS_SHOWN = 100  # a tenant's newest runs on the page; the control plane lists up to 500


def register(bp: Blueprint) -> None:
    """Add the admin's tenant pages to the UI's blueprint (behind its admin guard)."""
    bp.add_url_rule("/tenants", "tenants", tenants_page)
    bp.add_url_rule("/tenants/<tenant_name>/next", "tenant_pick", pick_next, methods=["POST"])


def tenants_page() -> str:
    """Every tenant with its newest runs."""
    session = get_session()
    shown = []
    for tenant in session.scalars(select(Tenant).order_by(Tenant.name)):
        kept = tenants.retention_of(tenant)
        rows = session.scalars(
            select(Run)
            .where(Run.tenant == tenant.name)
            .order_by(Run.created_at.desc())
            .limit(RUNS_SHOWN)
        ).all()
        shown.append({"tenant": tenant, "runs": [run_row(r, kept) for r in rows]})
    return render_template(
        "ui/tenants.html", tenants=shown, scenarios=sorted(get_registry().catalogue().entries)
    )


def pick_next(tenant_name: str) -> WerkzeugResponse:
    """Pick (or clear) the scenario a tenant's next søknad plays."""
    actions.pick_next(tenant_name, request.form.get("scenario") or None)
    return redirect(url_for("ui.tenants", _anchor=f"tenant-{tenant_name}"), code=303)
