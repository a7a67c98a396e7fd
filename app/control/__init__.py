"""The sandbox's own control plane under /sandbox/, apart from the simulated DiBK API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the control-plane blueprints."""
    from app.control import records, reports, runs, scenarios, tenant_runs, tenants

    for module in (runs, records, scenarios, reports, tenants, tenant_runs):
        app.register_blueprint(module.bp)
