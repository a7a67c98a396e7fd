"""byggesak-sandbox: a conformance sandbox that plays a Norwegian kommune for DiBK's APIs."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the sandbox app: config, extensions, blueprints — nothing else."""
    from app import (
        api,
        apidocs,
        config,
        control,
        error_handlers,
        openapi,
        tenants_file,
        ui,
        web_security,
    )
    from app.scenarios import registry
    from app.store import db, retention

    app = Flask(__name__, instance_relative_config=True)
    config.load(app, test_config)
    db.init_app(app)
    retention.init_app(app)
    registry.init_app(app)
    tenants_file.init_app(app)
    error_handlers.init_app(app)
    api.init_app(app)
    control.init_app(app)
    openapi.init_app(app)
    apidocs.init_app(app)
    ui.init_app(app)
    web_security.init_app(app)
    app.add_url_rule("/healthz", "healthz", _healthz)
    return app


def _healthz() -> Response:
    return jsonify({"status": "ok"})
