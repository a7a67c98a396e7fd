"""The ``byggesak-sandbox`` console script: Flask's CLI for this app plus ``serve``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from app import create_app


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the sandbox with a threaded server (gunicorn in production: see the Dockerfile)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(
        f"byggesak-sandbox on http://{host}:{port}/  (database: {app.config['DATABASE_URL']})"
    )
    run_simple(host, port, app, threaded=True, use_reloader=False)


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def main() -> None:
    """byggesak-sandbox: play a kommune for DiBK's saksbehandlingsdata APIs."""


main.add_command(serve_command)
