"""The ``byggesak-sandbox`` console script: Flask's CLI for this app plus ``serve``."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info

from app import create_app


def _gunicorn(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return app

    Server().run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int, help="gunicorn processes.")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per process.")
@pass_script_info
def serve_command(info: ScriptInfo, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the sandbox with gunicorn; all state is in the database, so workers may be many."""
    app = info.load_app()
    click.echo(
        f"byggesak-sandbox on http://{host}:{port}/  (database: {app.config['DATABASE_URL']})"
    )
    _gunicorn(app, host, port, workers, threads)


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def main() -> None:
    """byggesak-sandbox: play a kommune for DiBK's saksbehandlingsdata APIs."""


main.add_command(serve_command)
