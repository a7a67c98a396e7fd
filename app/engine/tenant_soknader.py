"""Which run a tenant's søknad started, by the digest of its canonical body.

A claim is one row per tenant and digest. The first copy of a body inserts it; a copy
that finds it younger than the window is the same søknad sent again; one that finds it
older takes it over for its own new run. The primary key and a compare-and-set on the
run id make two copies sent at once agree on one run, on SQLite and PostgreSQL alike.
A claim goes with its run (a refused søknad's run is deleted, and so is an expired one).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.engine.clock import aware
from app.store.models import TenantSoknad

ATTEMPTS = 5


def holder(session: Session, tenant: str, digest: str, since: datetime) -> str | None:
    """The run that holds the tenant's søknad ``digest`` when it came at or after ``since``."""
    claim = session.get(TenantSoknad, (tenant, digest), populate_existing=True)
    if claim is None or aware(claim.received_at) < since:
        return None
    return claim.run_id


def claim(
    session: Session, tenant: str, digest: str, run_id: str, now: datetime, since: datetime
) -> bool:
    """Claim ``digest`` for the new run ``run_id``; False when a copy that came at or after
    ``since`` holds it already."""
    for _attempt in range(ATTEMPTS):
        session.add(TenantSoknad(tenant=tenant, body_sha256=digest, run_id=run_id, received_at=now))
        try:
            session.commit()
            return True
        except IntegrityError:
            session.rollback()
        held = session.get(TenantSoknad, (tenant, digest), populate_existing=True)
        if held is None:
            continue  # released meanwhile: insert again
        if aware(held.received_at) >= since:
            return False
        taken = session.execute(
            update(TenantSoknad)
            .where(
                TenantSoknad.tenant == tenant,
                TenantSoknad.body_sha256 == digest,
                TenantSoknad.run_id == held.run_id,
            )
            .values(run_id=run_id, received_at=now)
        )
        session.commit()
        if getattr(taken, "rowcount", 0):
            return True
    return False


def release(session: Session, run_id: str) -> None:
    """Drop the claims of ``run_id`` (its søknad was not taken in after all)."""
    session.execute(delete(TenantSoknad).where(TenantSoknad.run_id == run_id))
    session.commit()
