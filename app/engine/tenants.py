"""Tenants: a vendor's fixed credentials; each søknad sent with them starts a run of its own.

A tenant is what DiBK gives a søknadssystem: one username and password, configured once.
The run a søknad starts plays the scenario its marker (``[sandbox:<id>]`` in the title),
the tenant's rules or the tenant's default pick, with a fresh innsendingReferanse that
is unique across the tenant; its polls find the run again by that reference.
"""

from __future__ import annotations

import copy
import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain import answers, codes
from app.domain.case import Saksnummer
from app.domain.durations import parse_duration
from app.engine.clock import utcnow
from app.engine.credentials import hash_secret, new_tenant_password, secret_matches
from app.engine.reads import load_sak
from app.engine.runs import start_run
from app.engine.settings import EngineConfig
from app.errors import Conflict, NotFound, Problem, ValidationFailed
from app.store import driver
from app.store.models import DokumentRow, Run, Tenant, TenantReference
from app.wire.dates import iso

MARKER = re.compile(r"\[sandbox:\s*([A-Za-z0-9._-]+)\s*\]", re.IGNORECASE)
DEFAULT_RETENTION = "P30D"
# Run usernames are minted as ``klient-…``: a tenant may not take one.
RUN_USERNAME_PREFIX = "klient-"
REFERENCE_ATTEMPTS = 20
CASES_SEARCHED = 500  # a tenant's live runs looked through for a case by its saksnummer
# DiBK's test kommunenumre (sandbox choice: each plays a real kommune of the SSB list).
# A process remembers the passwords it has verified, keyed by the stored hash (so a
# rotated password is judged afresh): a staging system polling every second pays for
# the slow hash once, not on every poll.
VERIFIED_MAX = 1024
# Session.info: the tenant's pick a søknad in this session took (name, scenario).
_TAKEN = "tenant_next_taken"

_BY_USERNAME = select(Tenant.name, Tenant.password_hash).where(
    Tenant.username == bindparam("username")
)
_RUN_BY_REFERENCE = select(TenantReference.run_id).where(
    TenantReference.tenant == bindparam("tenant"),
    TenantReference.referanse == bindparam("referanse"),
)

_RUN_BY_DOCUMENT = (
    select(DokumentRow.run_id)
    .join(Run, Run.id == DokumentRow.run_id)
    .where(Run.tenant == bindparam("tenant"), DokumentRow.dokument_id == bindparam("dokument"))
)


@dataclass(frozen=True)
class TenantLogin:
    """The two columns a request needs to judge a tenant's credentials."""

    name: str
    password_hash: str


def login_of(engine: Engine, username: str) -> TenantLogin | None:
    """The tenant with this username, or None (one indexed read)."""
    row = driver.read_one(engine, _BY_USERNAME, {"username": username})
    return TenantLogin(*row) if row is not None else None


_verified: OrderedDict[tuple[str, str], None] = OrderedDict()
_lock = threading.Lock()


def password_ok(login: TenantLogin, password: str) -> bool:
    """Whether ``password`` is the tenant's (a remembered verification costs no hash)."""
    key = (login.password_hash, hashlib.sha256(password.encode(errors="surrogatepass")).hexdigest())
    with _lock:
        if key in _verified:
            _verified.move_to_end(key)
            return True
    if not secret_matches(login.password_hash, password):
        return False
    with _lock:
        _verified[key] = None
        while len(_verified) > VERIFIED_MAX:
            _verified.popitem(last=False)
    return True


def run_of_reference(engine: Engine, tenant: str, referanse: str) -> str | None:
    """The id of the tenant's run that holds ``referanse``, or None."""
    row = driver.read_one(engine, _RUN_BY_REFERENCE, {"tenant": tenant, "referanse": referanse})
    return str(row[0]) if row is not None else None


def run_of_case(session: Session, tenant: str, saksnummer: Saksnummer) -> str | None:
    """The id of the tenant's newest live run whose case has or had ``saksnummer`` (where a
    follow-up søknad or a supplering that names only its case belongs), or None."""
    runs = session.scalars(
        select(Run)
        .where(Run.tenant == tenant, Run.status == "active")
        .order_by(Run.created_at.desc())
        .limit(CASES_SEARCHED)
    )
    for run in runs:
        if any(answers.had_number(i, saksnummer) for i in load_sak(run).innsendinger):
            return run.id
    return None


def run_of_document(engine: Engine, tenant: str, dokument_id: str) -> str | None:
    """The id of the tenant's run that published ``dokument_id``, or None."""
    row = driver.read_one(engine, _RUN_BY_DOCUMENT, {"tenant": tenant, "dokument": dokument_id})
    return str(row[0]) if row is not None else None


def tenant_or_404(session: Session, name: str) -> Tenant:
    """The tenant ``name``; NotFound when there is none."""
    tenant = session.get(Tenant, name)
    if tenant is None:
        raise NotFound(f"Leietakeren {name} finnes ikke.")
    return tenant


def create_tenant(
    session: Session, data: dict[str, Any], known: Mapping[str, Any]
) -> tuple[Tenant, str]:
    """Create a tenant from ``TenantCreateSchema``'s output; return it with its password."""
    name, username = data["name"], data["username"]
    if session.get(Tenant, name) is not None:
        _conflict("tenant.name.finnes", "name", f"Leietakeren {name} finnes allerede.")
    taken = session.scalar(select(Tenant.name).where(Tenant.username == username))
    if (
        taken is not None
        or username.lower().startswith(RUN_USERNAME_PREFIX)
        or session.scalar(select(Run.id).where(Run.username == username)) is not None
    ):
        _conflict("tenant.username.finnes", "username", f"Brukernavnet {username} er tatt.")
    for rule in data["rules"]:
        known_scenario(rule["scenario"], known, "rules")
    if data["scenario"] is not None:
        known_scenario(data["scenario"], known, "scenario")
    password = data["password"] or new_tenant_password()
    tenant = Tenant(
        name=name,
        username=username,
        password_hash=hash_secret(password),
        scenario=data["scenario"],
        rules=list(data["rules"]),
        clock=dict(data["clock"] or {}),
        retention=data["retention"] or DEFAULT_RETENTION,
        created_at=utcnow(),
    )
    session.add(tenant)
    try:
        session.commit()
    except IntegrityError:  # another request took the name or the username meanwhile
        session.rollback()
        _conflict("tenant.finnes", "name", f"Leietakeren {name} eller brukernavnet finnes.")
    return tenant, password


def rotate_password(session: Session, name: str, password: str | None) -> str:
    """Give the tenant a new password (``password``, or a fresh one); return it."""
    fresh = password or new_tenant_password()
    changed = session.execute(
        update(Tenant).where(Tenant.name == name).values(password_hash=hash_secret(fresh))
    )
    session.commit()
    if not getattr(changed, "rowcount", 0):  # unknown, or deleted meanwhile
        raise NotFound(f"Leietakeren {name} finnes ikke.")
    return fresh


def delete_tenant(session: Session, name: str) -> None:
    """Delete the tenant with its runs, their journals and documents."""
    tenant_or_404(session, name)
    session.execute(delete(Run).where(Run.tenant == name))
    session.execute(delete(Tenant).where(Tenant.name == name))
    session.commit()


def retention_of(tenant: Tenant) -> timedelta:
    """The tenant's retention as a duration."""
    return parse_duration(tenant.retention or DEFAULT_RETENTION)


def summary(tenant: Tenant, run_count: int | None = None) -> dict[str, Any]:
    """What the control plane tells about a tenant (never its password)."""
    out: dict[str, Any] = {
        "name": tenant.name,
        "username": tenant.username,
        "scenario": tenant.scenario,
        "rules": list(tenant.rules or []),
        "clock": dict(tenant.clock or {}),
        "retention": tenant.retention,
        "next": tenant.next_scenario,
        "createdAt": iso(tenant.created_at),
    }
    if run_count is not None:
        out["runCount"] = run_count
    return out


def choose_scenario(tenant: Tenant, data: dict[str, Any], known: Mapping[str, Any]) -> str | None:
    """The scenario a søknad plays: its title's marker, else the one picked for the next
    søknad (taken, see :func:`_take_next`), else the tenant's rules, else its default."""
    match = MARKER.search(data.get("tittel") or "")
    if match is not None:
        return known_scenario(match.group(1), known, "tittel")
    picked = _take_next(tenant)
    if picked is not None and picked in known:
        return picked
    tiltakstyper = set(data.get("tiltakstype") or [])
    for rule in tenant.rules or []:
        if rule.get("soknadstype") not in (None, data.get("soknadstype")):
            continue
        if rule.get("tiltakstype") not in (None, *tiltakstyper):
            continue
        return str(rule["scenario"])
    return tenant.scenario


def _take_next(tenant: Tenant) -> str | None:
    """Take the tenant's pick for the next søknad, if it still has one; None otherwise.

    The pick is cleared in the tenant's session without a commit: the commit that creates
    the søknad's run makes both stick. The update matches the pick it read, so of two
    søknader arriving at once only one gets it (the other waits for the row, then finds
    it cleared); :func:`discard_run` gives it back if the søknad is refused.
    """
    picked = tenant.next_scenario
    session = Session.object_session(tenant)
    if picked is None or session is None:
        return None
    taken = session.execute(
        update(Tenant)
        .where(Tenant.name == tenant.name, Tenant.next_scenario == picked)
        .values(next_scenario=None)
    )
    if not getattr(taken, "rowcount", 0):
        return None
    session.info[_TAKEN] = (tenant.name, picked)
    return picked


def pick_next(session: Session, name: str, scenario: str | None) -> Tenant:
    """Set (or with None, clear) the scenario the tenant's next søknad plays."""
    changed = session.execute(
        update(Tenant).where(Tenant.name == name).values(next_scenario=scenario)
    )
    session.commit()
    if not getattr(changed, "rowcount", 0):
        raise NotFound(f"Leietakeren {name} finnes ikke.")
    return tenant_or_404(session, name)


def start_tenant_run(
    session: Session,
    config: EngineConfig,
    tenant: Tenant,
    scenario: dict[str, Any] | None,
    data: dict[str, Any],
) -> tuple[Run, str]:
    """Start the run a tenant's søknad asks for; return it with the søknad's reserved reference.

    The run's clock starts now, at the tenant's default mode; the case is addressed to
    the søknad's kommune when it names one (give it :func:`as_played` first). The reference is drawn at random (not from
    the scenario's seed), so the same scenario played twice gives two references.
    """
    clock = dict(tenant.clock or {})
    step = clock.get("step")
    run, _password = start_run(
        session,
        config,
        scenario=_client_sends_first(scenario),
        clock_start=utcnow(),
        kommunenummer=data.get("kommunenummer"),
        label=f"{tenant.name}: {data.get('tittel') or data.get('soknadstype')}"[:200],
        clock_mode=clock.get("mode") or "realtime",
        clock_factor=clock.get("factor"),
        clock_poll_step=parse_duration(step) if step else None,
        tenant=tenant.name,
    )
    for _attempt in range(REFERENCE_ATTEMPTS):
        referanse = f"AR{10_000_000 + secrets.randbelow(90_000_000)}"
        session.add(TenantReference(tenant=tenant.name, referanse=referanse, run_id=run.id))
        try:
            session.commit()
            return run, referanse
        except IntegrityError:  # the tenant holds this reference already: draw again
            session.rollback()
    raise Conflict("Fant ingen ledig innsendingReferanse.", [])


def as_played(data: dict[str, Any]) -> dict[str, Any]:
    """The søknad as its run plays it: a DiBK test kommunenummer stands for the run's kommune
    (the scenario's, else the default), as on a run's own credentials."""
    if data.get("kommunenummer") not in codes.TEST_KOMMUNENUMRE:
        return data
    return {k: v for k, v in data.items() if k != "kommunenummer"}


def discard_run(session: Session, run_id: str) -> None:
    """Delete a tenant's run whose søknad was refused (its reference goes with it)."""
    session.rollback()
    session.execute(delete(Run).where(Run.id == run_id))
    taken = session.info.pop(_TAKEN, None)
    if taken is not None:  # the refused søknad never played the pick: the next one will
        name, picked = taken
        session.execute(
            update(Tenant)
            .where(Tenant.name == name, Tenant.next_scenario.is_(None))
            .values(next_scenario=picked)
        )
    session.commit()


def _client_sends_first(scenario: dict[str, Any] | None) -> dict[str, Any] | None:
    """The scenario with its first søknad left to the client: the tenant's søknad is it."""
    if scenario is None:
        return None
    played = copy.deepcopy(scenario)
    planned = (played.get("case") or {}).get("innsendinger") or []
    if planned:
        planned[0]["innsendt_av"] = "client"
    return played


def known_scenario(scenario_id: str, known: Mapping[str, Any], field: str) -> str:
    by_folded = {k.lower(): k for k in known}
    found = by_folded.get(scenario_id.lower())
    if found is None:
        message = (
            f"Scenarioet '{scenario_id}' finnes ikke; kjente scenarioer: "
            + ", ".join(sorted(known))
            + "."
        )
        raise ValidationFailed(message, [Problem("tenant.scenario.ukjent", field, message)])
    return found


def _conflict(rule: str, field: str, message: str) -> None:
    raise Conflict(message, [Problem(rule, field, message)])
