"""A run's life: created with fresh credentials, started (its søknader in, what is due
fired), finished (no more steps fire; the client may still read)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.domain.case import Sak
from app.domain.plain import to_plain
from app.engine.apply import Write, write_run
from app.engine.changes import submit_innsending
from app.engine.clock import new_clock, utcnow
from app.engine.credentials import hash_password, new_credentials
from app.engine.settings import EngineConfig
from app.engine.timeline import catch_up
from app.errors import Problem, ValidationFailed
from app.store.models import Run
from app.testdata.no_provider import Kommune, SyntheticData, kommuner
from app.wire.dates import parse_iso
from app.wire.inputs import InnsendingSchema


def create_run(
    session: Session,
    config: EngineConfig,
    *,
    label: str | None = None,
    seed: int | None = None,
    profile: str = "utkast-2022",
    kommunenummer: str | None = None,
    fraEbyggesaksystem: str | None = None,
    clock_mode: str = "realtime",
    clock_start: datetime | None = None,
    clock_factor: float | None = None,
    clock_poll_step: timedelta | None = None,
    scenario: dict[str, Any] | None = None,
    poll_interval: float = 1.0,
    tenant: str | None = None,
    clock_on_first_request: bool = False,
) -> tuple[Run, str]:
    """Create a run with fresh credentials; return it with its (only shown once) password."""
    if seed is None:
        seed = config.default_seed if config.default_seed is not None else secrets.randbelow(2**31)
    data = SyntheticData(seed)
    kommune: Kommune
    if kommunenummer is None:
        kommune = data.kommune()
    else:
        found = kommuner().get(kommunenummer)
        if found is None:
            message = f"Kommunenummer {kommunenummer} finnes ikke i SSBs liste for 2024."
            raise ValidationFailed(
                message, [Problem("run.kommunenummer.ukjent", "kommunenummer", message)]
            )
        kommune = found
    sak = Sak(
        kommunenummer=kommune.nummer,
        kommunenavn=kommune.navn.split(" - ")[0],
        fraEbyggesaksystem=fraEbyggesaksystem or "Sandkasse eByggesak",
        neste_sakssekvensnummer=data.random.randint(100, 9000),
        fordelingssak_sekvensnummer=data.random.randint(1, 60),
        godtar_besvares_senere=bool(
            ((scenario or {}).get("case") or {}).get("godtar_besvares_senere")
        ),
    )
    clock = new_clock(clock_mode, clock_start, clock_factor)
    username, password = new_credentials()
    run = Run(
        id=f"run-{secrets.token_hex(6)}",
        label=label,
        profile=profile,
        seed=seed,
        username=username,
        password_sha256=hash_password(password),
        status="active",
        created_at=utcnow(),
        clock_mode=clock.mode,
        clock_factor=0.0 if clock_on_first_request else clock.factor,
        clock_virtual_anchor=clock.virtual_anchor,
        clock_real_anchor=clock.real_anchor,
        clock_start=clock.virtual_anchor,
        clock_poll_step_seconds=clock_poll_step.total_seconds() if clock_poll_step else None,
        # Waiting for the first request: it stands still (factor 0) until then.
        clock_waiting_factor=clock.factor if clock_on_first_request else None,
        scenario_id=scenario["id"] if scenario else None,
        scenario=scenario,
        timeline={"steps": {}, "aliases": {}, "pollInterval": poll_interval},
        state=to_plain(sak),
        version=0,
        rng_counter=1,
        oppdatering_seq=0,
        tenant=tenant,
    )
    session.add(run)
    session.commit()
    return run, password


def start_run(
    session: Session,
    config: EngineConfig,
    *,
    scenario: dict[str, Any] | None = None,
    innsending: dict[str, Any] | None = None,
    seed: int | None = None,
    clock_start: datetime | None = None,
    kommunenummer: str | None = None,
    fraEbyggesaksystem: str | None = None,
    **options: Any,
) -> tuple[Run, str]:
    """Create a run (of a scenario, if given), submit its innsendinger and fire what is due.

    The scenario supplies defaults for seed, kommune and clock start. If an innsending is
    refused, the run is deleted again and the error raised. Other keyword ``options`` go
    to :func:`app.engine.runs.create_run` (label, profile, clock mode, poll interval …).
    """
    case = (scenario or {}).get("case") or {}
    scenario_start = ((scenario or {}).get("clock") or {}).get("start")
    run, password = create_run(
        session,
        config,
        seed=seed if seed is not None else (scenario or {}).get("seed"),
        clock_start=clock_start or (parse_iso(scenario_start) if scenario_start else None),
        kommunenummer=kommunenummer or case.get("kommunenummer"),
        fraEbyggesaksystem=fraEbyggesaksystem or case.get("fraEbyggesaksystem"),
        scenario=scenario,
        **options,
    )
    try:
        if innsending is not None:
            submit_innsending(session, run.id, config, innsending)
        for planned in case.get("innsendinger") or []:
            if planned.get("innsendt_av", "sandbox") == "sandbox":
                fields = {k: v for k, v in planned.items() if k not in ("id", "innsendt_av")}
                submit_innsending(
                    session,
                    run.id,
                    config,
                    InnsendingSchema().load(fields),
                    alias=planned["id"],
                    source="scenario",
                )
    except ValidationFailed:
        session.rollback()
        session.execute(delete(Run).where(Run.id == run.id))
        session.commit()
        raise
    catch_up(session, run.id, config)
    session.rollback()
    return run, password


def finish_run(session: Session, run_id: str, config: EngineConfig) -> None:
    """Fire what is due, then end the run: no more steps fire; the client may still read."""
    catch_up(session, run_id, config)
    write_run(session, run_id, lambda _run: Write({"status": "finished"}))
