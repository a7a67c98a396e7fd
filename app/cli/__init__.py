"""The ``byggesak-sandbox`` console script: the sandbox's own commands, nothing of Flask's.

Exit codes throughout: 0 success, 1 a failure the command reports (conformance failures,
an address the server cannot listen on), 2 a usage error, a ``SANDBOX_*`` setting the
sandbox cannot start with or a database it cannot open.
"""

from __future__ import annotations

import click

from app.cli.ci import run_command
from app.cli.runs import runs_group
from app.cli.scenarios import lint_command, schema_command
from app.cli.serve import serve_command
from app.cli.tenants import tenants_group

CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT)
@click.version_option(
    package_name="byggesak-sandbox", prog_name="byggesak-sandbox", message="%(prog)s %(version)s"
)
def main() -> None:
    """byggesak-sandbox: play a kommune for DiBK's saksbehandlingsdata APIs."""


main.add_command(serve_command)
main.add_command(runs_group)
main.add_command(tenants_group)
main.add_command(run_command)
main.add_command(lint_command)
main.add_command(schema_command)
