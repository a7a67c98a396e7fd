"""Fresh innsendingReferanse values for a tenant's runs, unique across the tenant.

A tenant's polls find a run by its reference among all the tenant's runs, so a reference
there is drawn at random (not from the scenario's seed, which would give two runs of one
scenario the same one) and reserved in ``tenant_references``.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.models import TenantReference


def new_reference() -> str:
    """A random reference of the form the sandbox's seeded ones take (``AR`` and 8 digits)."""
    return f"AR{10_000_000 + secrets.randbelow(90_000_000)}"


def draw(session: Session, tenant: str, run_id: str, taken: Collection[str]) -> TenantReference:
    """A reservation of a reference the tenant and ``taken`` do not hold yet, for ``run_id``."""
    while True:
        referanse = new_reference()
        if referanse in taken:
            continue
        held = select(TenantReference.run_id).where(
            TenantReference.tenant == tenant, TenantReference.referanse == referanse
        )
        if session.scalar(held) is None:
            return TenantReference(tenant=tenant, referanse=referanse, run_id=run_id)
