"""The simulated DiBK API under /api/v1: one blueprint per API area, HTTP Basic per run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app, request

from app.engine.runs import EngineConfig
from app.engine.snapshots import SnapshotCache


def engine_config() -> EngineConfig:
    """The engine settings for the current request (base URL from config or the request)."""
    base = current_app.config["BASE_URL"] or request.host_url
    seed = current_app.config["SEED"]
    return EngineConfig(
        base_url=str(base).rstrip("/"),
        default_seed=int(seed) if seed is not None else None,
        document_retention=timedelta(days=int(current_app.config["DOCUMENT_RETENTION_DAYS"])),
    )


class CaseInsensitiveApiPaths:
    """WSGI middleware: match /api/v1 paths case-insensitively, as DiBK's ASP.NET routes do."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path[:8].lower() == "/api/v1/" and path != path.lower():
            environ["PATH_INFO"] = path.lower()
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Register the simulated API's blueprints and the journal."""
    from app.api import dokument, innsending, journal, kvittering, oppdatering, status, supplering
    from app.api.kept_answers import KeptAnswers

    for module in (kvittering, oppdatering, status, dokument, innsending, supplering):
        app.register_blueprint(module.bp)
    if app.config["KEEP_ANSWERS"]:
        # Inside the journal's timing: a kept answer's duration is measured the same way.
        kept = KeptAnswers(app.wsgi_app, app)
        app.extensions["sandbox.kept_answers"] = app.wsgi_app = kept  # type: ignore[method-assign]
    journal.init_app(app)
    app.extensions["sandbox.snapshots"] = SnapshotCache()
    app.wsgi_app = CaseInsensitiveApiPaths(app.wsgi_app)  # type: ignore[method-assign]
