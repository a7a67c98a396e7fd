"""Control plane for tenants: create, list, inspect, delete, rotate the password."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select

from app.config import engine_config
from app.control.auth import require_admin
from app.engine import tenants
from app.http import load_body
from app.openapi_docs import BODY_ERRORS, doc, json_content
from app.scenarios.registry import get_registry
from app.store.db import get_session
from app.store.models import Run, Tenant
from app.wire.inputs import PasswordRotateSchema, TenantCreateSchema

bp = Blueprint("control_tenants", __name__, url_prefix="/sandbox")
bp.before_request(require_admin)
UNKNOWN_TENANT = "Unknown tenant"


def _tenant_body(description: str) -> dict[str, object]:
    return {"description": description, "content": json_content("Tenant")}


@bp.post("/tenants")
@doc(
    "Create a tenant: fixed credentials for a staging system (the password is shown once)",
    body="TenantCreate",
    responses={
        "201": _tenant_body("The tenant with its credentials"),
        "400": "Malformed JSON, field errors or an unknown scenario",
        "409": "The name or the username is taken",
        **BODY_ERRORS,
    },
)
def post_tenant() -> tuple[Response, int, dict[str, str]]:
    """Create a tenant; only this response shows its password."""
    data = load_body(TenantCreateSchema(), "tenant")
    known = get_registry().catalogue().entries
    tenant, password = tenants.create_tenant(get_session(), data, known)
    body = tenants.summary(tenant)
    body["credentials"] = {"username": tenant.username, "password": password}
    location = f"{engine_config().base_url}/sandbox/tenants/{tenant.name}"
    return jsonify(body), 201, {"Location": location}


@bp.get("/tenants")
@doc(
    "List the tenants",
    responses={"200": {"description": "Every tenant", "content": json_content("TenantList")}},
)
def list_tenants() -> Response:
    """Every tenant, by name, with how many runs each holds."""
    session = get_session()
    counts = dict(
        session.execute(
            select(Run.tenant, func.count()).where(Run.tenant.is_not(None)).group_by(Run.tenant)
        ).all()
    )
    rows = session.scalars(select(Tenant).order_by(Tenant.name)).all()
    return jsonify({"tenants": [tenants.summary(t, counts.get(t.name, 0)) for t in rows]})


@bp.get("/tenants/<tenant_name>")
@doc("One tenant", responses={"200": _tenant_body("The tenant"), "404": UNKNOWN_TENANT})
def get_tenant(tenant_name: str) -> Response:
    """One tenant."""
    session = get_session()
    tenant = tenants.tenant_or_404(session, tenant_name)
    count = session.scalar(select(func.count()).where(Run.tenant == tenant.name)) or 0
    return jsonify(tenants.summary(tenant, count))


@bp.delete("/tenants/<tenant_name>")
@doc("Delete a tenant with its runs", responses={"204": "Deleted", "404": UNKNOWN_TENANT})
def delete_tenant(tenant_name: str) -> tuple[str, int]:
    """Delete a tenant with its runs, their journals and documents."""
    tenants.delete_tenant(get_session(), tenant_name)
    return "", 204


@bp.post("/tenants/<tenant_name>/password")
@doc(
    "Rotate the tenant's password (the new one is shown once)",
    body="PasswordRotate",
    body_required=False,
    responses={
        "200": _tenant_body("The tenant with its new credentials"),
        "400": "Malformed JSON or a password under 12 characters",
        "404": UNKNOWN_TENANT,
        **BODY_ERRORS,
    },
)
def post_password(tenant_name: str) -> Response:
    """Give the tenant a new password, given or generated; the old one stops working."""
    data = load_body(PasswordRotateSchema(), "passord", allow_empty=True)
    session = get_session()
    password = tenants.rotate_password(session, tenant_name, data["password"])
    tenant = tenants.tenant_or_404(session, tenant_name)
    body = tenants.summary(tenant)
    body["credentials"] = {"username": tenant.username, "password": password}
    return jsonify(body)
