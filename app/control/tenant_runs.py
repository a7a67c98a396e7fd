"""What the admin or the tenant itself may do with a tenant: list its runs, pick its next søknad.

``GET /sandbox/tenants/{name}/runs`` and ``PUT /sandbox/tenants/{name}/next``: with
SANDBOX_ADMIN_TOKEN set, the admin's Bearer token or the tenant's own HTTP Basic
credentials are let in; another tenant's credentials get 404, as for its references.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from app.control import actions
from app.control.auth import require_admin
from app.engine import tenants
from app.engine.clock import aware
from app.engine.reads import load_sak
from app.errors import NotFound
from app.http import load_body
from app.openapi_docs import BODY_ERRORS, doc, json_content
from app.store.db import get_session
from app.store.models import Run, Tenant
from app.wire.dates import iso
from app.wire.inputs import NextScenarioSchema

bp = Blueprint("control_tenant_runs", __name__, url_prefix="/sandbox")


def _let_in() -> None:
    """The admin, or the tenant the path names with its own credentials."""
    auth = request.authorization
    name = (request.view_args or {}).get("tenant_name")
    if auth is None or auth.type != "basic" or not auth.username or name is None:
        require_admin()
        return
    login = tenants.login_of(current_app.extensions["sandbox.engine"], auth.username)
    if login is None or not tenants.password_ok(login, auth.password or ""):
        require_admin()  # credentials that are no tenant's: as the control plane answers
        return
    if not hmac.compare_digest(login.name, str(name)):
        raise NotFound(f"Leietakeren {name} finnes ikke.")  # another tenant's: as unknown


bp.before_request(_let_in)


def run_row(run: Run, kept: timedelta) -> dict[str, Any]:
    """One of a tenant's runs: scenario, references, state and when it will be removed."""
    sak = load_sak(run)
    last_seen = aware(run.last_exchange_at or run.created_at)
    return {
        "id": run.id,
        "scenario": run.scenario_id,
        "innsendingReferanser": [i.innsendingReferanse for i in sak.innsendinger],
        "status": run.status,
        "milepael": [i.milepael for i in sak.innsendinger],
        "createdAt": iso(run.created_at),
        "lastExchangeAt": iso(run.last_exchange_at) if run.last_exchange_at else None,
        "expiresAt": iso(last_seen + kept),
    }


@bp.get("/tenants/<tenant_name>/runs")
@doc(
    "The tenant's runs, newest first (the admin, or the tenant with its own credentials)",
    responses={
        "200": {"description": "The tenant's runs", "content": json_content("TenantRuns")},
        "404": "Unknown tenant, or another tenant's",
    },
)
def list_tenant_runs(tenant_name: str) -> Response:
    """The tenant's runs with scenario, innsendingReferanse, state and expiry."""
    session = get_session()
    tenant: Tenant = tenants.tenant_or_404(session, tenant_name)
    kept = tenants.retention_of(tenant)
    runs = session.scalars(
        select(Run).where(Run.tenant == tenant.name).order_by(Run.created_at.desc()).limit(500)
    ).all()
    return jsonify({"tenant": tenant.name, "runs": [run_row(r, kept) for r in runs]})


@bp.put("/tenants/<tenant_name>/next")
@doc(
    "Pick the scenario the tenant's next søknad plays, or clear the pick with null "
    "(the admin, or the tenant with its own credentials)",
    description="Order: a marker in the søknad's tittel, then this pick, then the tenant's "
    "rules, then its default scenario. One søknad plays the pick; starting its run clears it.",
    body="NextScenario",
    responses={
        "200": {"description": "The tenant with its pick", "content": json_content("Tenant")},
        "400": "Malformed JSON, or an unknown scenario (the problem names the known ids)",
        "404": "Unknown tenant, or another tenant's",
        **BODY_ERRORS,
    },
)
def put_next(tenant_name: str) -> Response:
    """Pick (or clear) the scenario the tenant's next søknad plays."""
    data = load_body(NextScenarioSchema(), "neste")
    return jsonify(tenants.summary(actions.pick_next(tenant_name, data["scenario"])))
