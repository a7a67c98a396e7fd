"""Configuration: defaults, then ``SANDBOX_*`` environment variables, then the test override."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, request
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app import limits
from app.domain.durations import parse_duration
from app.engine.settings import EngineConfig
from app.errors import ConfigError

DEFAULTS: dict[str, Any] = {
    # SQLite file in the instance folder unless SANDBOX_DATABASE_URL names another database.
    "DATABASE_URL": None,
    # Default seed for runs created without one; unset means a fresh random seed per run.
    "SEED": None,
    # When set, the control plane (/sandbox/) requires "Authorization: Bearer <token>".
    "ADMIN_TOKEN": None,
    "MAX_BODY_BYTES": 1024 * 1024,
    # Public base URL used in dokumentUrl and kvitteringUrl; default: the request's host.
    "BASE_URL": None,
    "JOURNAL_MAX_ENTRIES": 10_000,
    "JOURNAL_BODY_CAP": 64 * 1024,
    # The journal writer's socket: set by ``serve`` for its workers (app.store.journal_process);
    # unset, an app runs the writer in a thread of its own.
    "JOURNAL_SOCKET": None,
    "DOCUMENT_RETENTION_DAYS": 30,
    # The scenario library; default: the wheel's copy (app/library), else the checkout's scenarios/.
    "SCENARIO_DIR": None,
    # Re-read changed scenario files while serving (validate, then swap).
    "SCENARIO_RELOAD": True,
    # How long a run is kept after its last exchange (ISO-8601; 0 keeps runs for good).
    "RUN_RETENTION": "P7D",
    # A YAML file of tenants applied at start (app.tenants_file), for a Docker deployment.
    "TENANTS_FILE": None,
    # How long a UI session (its cookie and its CSRF token) lasts: 12 hours.
    "UI_SESSION_SECONDS": 12 * 3600,
    # The window of the UI's sign-in limit (app.limits): 15 minutes.
    "LOGIN_WINDOW_SECONDS": int(limits.LOGIN_WINDOW.total_seconds()),
}

ENV_PREFIX = "SANDBOX_"
# Settings that are true or false; unset (None) is allowed where the default is "decide".
FLAGS = ("SCENARIO_RELOAD",)
# Settings that are whole numbers, with their least and greatest value.
COUNTS = {
    "MAX_BODY_BYTES": (0, None),
    # Scoring reads the journal: a run keeps at least one entry.
    "JOURNAL_MAX_ENTRIES": (1, None),
    "JOURNAL_BODY_CAP": (0, None),
    # Added to virtual dates: a century keeps any date near the horizon a date.
    "DOCUMENT_RETENTION_DAYS": (0, 36_500),
    # A UI session from a minute to a year.
    "UI_SESSION_SECONDS": (60, 366 * 24 * 3600),
    # A sign-in window from a second to a day.
    "LOGIN_WINDOW_SECONDS": (1, 24 * 3600),
}
# The databases the sandbox speaks to (SQLAlchemy backend names).
BACKENDS = ("sqlite", "postgresql")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _flag(name: str, value: Any) -> bool | None:
    """``value`` as a boolean; a setting like ``maybe`` stops the start with a clear message."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{ENV_PREFIX}{name} must be true or false, not {value!r}")


def _whole(name: str, value: Any, least: int | None = 0, most: int | None = None) -> int | None:
    """``value`` as a whole number from ``least`` to ``most``; anything else stops the start."""
    if value is None and least is None:
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.lstrip("-").isdigit() or len(text) > 30:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {value!r}")
    number = int(text)
    if least is not None and number < least:
        raise ConfigError(f"{ENV_PREFIX}{name} must be {least} or more, not {number}")
    if most is not None and number > most:
        raise ConfigError(f"{ENV_PREFIX}{name} must be {most} or less, not {number}")
    return number


def _retention(value: Any) -> timedelta | None:
    """``SANDBOX_RUN_RETENTION`` as a duration; None (keep for good) for ``0``."""
    if isinstance(value, timedelta) or value is None:
        return value if value else None
    text = str(value).strip().upper()
    if text == "0":
        return None
    try:
        retention = parse_duration(text)
    except (ValueError, OverflowError):
        retention = timedelta(0)
    if retention <= timedelta(0):
        message = (
            f"{ENV_PREFIX}RUN_RETENTION must be an ISO-8601 duration such as P7D or PT12H, or 0"
        )
        raise ConfigError(f"{message}, not {value!r}")
    return retention


def _database_url(value: Any) -> str:
    """``value`` as a SQLAlchemy URL of SQLite or PostgreSQL (plain postgresql:// gets psycopg)."""
    text = str(value).strip()
    try:
        url = make_url(text)
    except ArgumentError:
        url = None
    if url is None or url.get_backend_name() not in BACKENDS:
        shown = url.render_as_string(hide_password=True) if url else text[:200]
        raise ConfigError(
            f"{ENV_PREFIX}DATABASE_URL must be sqlite:///PATH or postgresql://USER@HOST/DB, "
            f"not {shown!r}"
        )
    if text.startswith("postgresql://"):
        # Plain postgresql:// URLs get the psycopg 3 driver, the one the project installs.
        return "postgresql+psycopg://" + text[len("postgresql://") :]
    return text


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from the defaults, the environment and ``test_config``, in order."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env(ENV_PREFIX.rstrip("_"))
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{os.path.join(app.instance_path, 'sandbox.db')}"
    app.config["DATABASE_URL"] = _database_url(app.config["DATABASE_URL"])
    for name in FLAGS:
        app.config[name] = _flag(name, app.config[name])
    for name, (least, most) in COUNTS.items():
        app.config[name] = _whole(name, app.config[name], least, most)
    seed = _whole("SEED", app.config["SEED"], least=None)
    if seed is not None and not -limits.SEED_MAX - 1 <= seed <= limits.SEED_MAX:
        raise ConfigError(f"{ENV_PREFIX}SEED must fit in 64 bits, not {seed}")
    app.config["SEED"] = seed
    app.config["RUN_RETENTION"] = _retention(app.config["RUN_RETENTION"])
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    if not app.config["SCENARIO_DIR"]:
        app.config["SCENARIO_DIR"] = default_scenario_dir(app.root_path)
    if not os.path.isdir(app.config["SCENARIO_DIR"]):
        raise ConfigError(
            f"{ENV_PREFIX}SCENARIO_DIR: folder not found: {app.config['SCENARIO_DIR']}"
        )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]


def default_scenario_dir(package_root: str) -> str:
    """The library a wheel carries (``app/library``), else the checkout's ``scenarios/``."""
    packaged = os.path.join(package_root, "library")
    if os.path.isdir(packaged):
        return packaged
    return os.path.join(os.path.dirname(package_root), "scenarios")


def engine_config() -> EngineConfig:
    """The engine settings for the current request (base URL from config or the request)."""
    base = current_app.config["BASE_URL"] or request.host_url
    seed = current_app.config["SEED"]
    return EngineConfig(
        base_url=str(base).rstrip("/"),
        default_seed=int(seed) if seed is not None else None,
        document_retention=timedelta(days=int(current_app.config["DOCUMENT_RETENTION_DAYS"])),
        journal_cap=int(current_app.config["JOURNAL_MAX_ENTRIES"]),
    )
