"""The ``byggesak-sandbox`` console script: Flask's CLI for this app plus ``serve``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info

from app import create_app
from app.cli_ci import run_command
from app.cli_runs import runs_group
from app.errors import ConfigError
from app.scenarios.loader import load_file
from app.scenarios.schema import schema_json


def _gunicorn(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            # Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads
            # connections; on one shared socket one worker can take every keep-alive
            # connection while the other idles (bench/README.md).
            self.cfg.set("reuse_port", workers > 1)
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


def _app_or_clear_error() -> Flask:
    """The app; a setting it cannot start with is a one-line error, not a traceback."""
    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_app_or_clear_error, add_default_commands=True)
def main() -> None:
    """byggesak-sandbox: play a kommune for DiBK's saksbehandlingsdata APIs."""


main.add_command(serve_command)


@click.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def lint_command(paths: tuple[Path, ...]) -> None:
    """Check scenario files; print file:line:col: message per problem.

    Exit 0 when every file is clean, 1 when problems were found, 2 on a usage error.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise click.UsageError(f"no such file or folder: {path}")
    if not files:
        raise click.UsageError("no scenario files (*.yaml) found")
    problems = 0
    owners: dict[str, Path] = {}
    for file in files:
        loaded = load_file(file, display=str(file))
        for diagnostic in loaded.problems:
            click.echo(str(diagnostic))
            problems += 1
        if loaded.scenario is not None:
            scenario_id = loaded.scenario["id"]
            if scenario_id in owners:
                click.echo(
                    f"{file}:1:1: scenario id '{scenario_id}' is also used by {owners[scenario_id]}"
                )
                problems += 1
            owners.setdefault(scenario_id, file)
    if problems:
        click.echo(f"{problems} problem(s) in {len(files)} file(s)", err=True)
        sys.exit(1)
    click.echo(f"{len(files)} file(s) clean", err=True)


@click.command("schema")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Write here (default: print to standard output).",
)
def schema_command(output: Path | None) -> None:
    """Print or write the scenario JSON Schema (draft-07) for editors."""
    text = schema_json()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")
        click.echo(f"wrote {output}", err=True)


main.add_command(runs_group)
main.add_command(run_command)
main.add_command(lint_command)
main.add_command(schema_command)
