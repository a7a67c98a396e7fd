"""Tenant credentials on the simulated API: the request's reference names the tenant's run.

A tenant's password is checked by ``app.engine.tenants.password_ok`` (a slow salted hash,
paid once per process and password, not on every poll).
"""

from __future__ import annotations

import json
import re

from flask import request
from sqlalchemy import Engine

from app.engine import tenants
from app.engine.snapshots import RunHead, head_by_id
from app.errors import NotFound, Problem, ValidationFailed

REFERENCE_IN_TEXT = re.compile(r"innsendingReferanse\W{0,5}(AR\d{1,12})", re.IGNORECASE)
TEXT_SEARCHED = 16_384  # characters of a non-JSON body searched for the reference
TENANT = "tenant"  # g: the tenant whose credentials the request carries


def head_of_tenant_run(engine: Engine, tenant: str) -> RunHead:
    """The head of the tenant's run this request names by reference (or document); 404 else."""
    dokument_id = (request.view_args or {}).get("dokument_id")
    if dokument_id is not None:
        run_id = tenants.run_of_document(engine, tenant, str(dokument_id))
        what = f"Dokumentet {dokument_id}"
    else:
        referanse = request_reference()
        if referanse is None:
            message = "Med leietakerens brukernavn må forespørselen nevne innsendingReferanse."
            raise ValidationFailed(
                message, [Problem("innsendingReferanse.mangler", "innsendingReferanse", message)]
            )
        run_id = tenants.run_of_reference(engine, tenant, referanse)
        what = f"innsendingReferanse {referanse}"
    head = head_by_id(engine, run_id) if run_id is not None else None
    if head is None:
        raise NotFound(f"{what} finnes ikke.")
    return head


def request_reference() -> str | None:
    """The innsendingReferanse the request names: in the query, else in its body."""
    found = request.args.get("innsendingReferanse")
    if found:
        return found
    if request.method != "POST":
        return None
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if request.is_json else None
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        for key in ("innsendingReferanse", "InnsendingReferanse"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        return None
    match = REFERENCE_IN_TEXT.search(raw[:TEXT_SEARCHED].decode("utf-8", errors="replace"))
    return match.group(1) if match else None
