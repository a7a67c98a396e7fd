"""Tenant credentials on the simulated API: the request's reference names the tenant's run.

A tenant's password is checked by ``app.engine.tenants.password_ok`` (a slow salted hash,
paid once per process and password, not on every poll).
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from sqlalchemy import Engine

from app.domain.case import Saksnummer
from app.engine import tenants
from app.engine.snapshots import RunHead, head_by_id
from app.errors import NotFound, Problem, ValidationFailed
from app.store.db import get_session

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
            message = (
                "Med leietakerens brukernavn må forespørselen nevne innsendingReferanse, "
                "eller en kommunensSaksnummer som en av leietakerens kjøringer har."
            )
            raise ValidationFailed(
                message, [Problem("innsendingReferanse.mangler", "innsendingReferanse", message)]
            )
        run_id = tenants.run_of_reference(engine, tenant, referanse)
        what = f"innsendingReferanse {referanse}"
    head = head_by_id(engine, run_id) if run_id is not None else None
    if head is None:
        raise NotFound(f"{what} finnes ikke.")
    return head


def tenant_write_head(engine: Engine, tenant: str, data: dict[str, Any]) -> RunHead | None:
    """The head of the tenant's run a loaded form names: by its ``innsendingReferanse``,
    else by its ``kommunensSaksnummer`` (DiBK's forms name the case so); None when it names
    neither or no run of the tenant's has it."""
    referanse = request.args.get("innsendingReferanse") or data.get("innsendingReferanse")
    run_id = tenants.run_of_reference(engine, tenant, referanse) if referanse else None
    saksnummer = data.get("kommunensSaksnummer")
    if run_id is None and isinstance(saksnummer, Saksnummer):
        run_id = tenants.run_of_case(get_session(), tenant, saksnummer)
    return head_by_id(engine, run_id) if run_id is not None else None


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
