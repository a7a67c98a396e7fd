"""The sandbox's own control plane under /sandbox/, apart from the simulated DiBK API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the control-plane blueprint."""
    from app.control import reports, runs

    app.register_blueprint(runs.bp)
    app.register_blueprint(reports.bp)
