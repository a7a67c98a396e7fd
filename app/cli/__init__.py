"""The ``byggesak-sandbox`` console script: Flask's CLI for this app plus the sandbox's commands.

Exit codes throughout: 0 success, 1 a failure the command reports (conformance failures,
an address the server cannot listen on), 2 a usage error, a ``SANDBOX_*`` setting the
sandbox cannot start with or a database it cannot open.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from app import create_app
from app.cli.ci import run_command
from app.cli.runs import runs_group
from app.cli.scenarios import lint_command, schema_command
from app.cli.serve import serve_command
from app.cli.usage import SettingError
from app.errors import ConfigError


def _app_or_clear_error() -> Flask:
    """The app; a setting or database it cannot start with is one line and exit 2."""
    try:
        return create_app()
    except ConfigError as error:
        raise SettingError(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_app_or_clear_error, add_default_commands=True)
def main() -> None:
    """byggesak-sandbox: play a kommune for DiBK's saksbehandlingsdata APIs."""


main.add_command(serve_command)
main.add_command(runs_group)
main.add_command(run_command)
main.add_command(lint_command)
main.add_command(schema_command)
