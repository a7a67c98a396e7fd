"""``byggesak-sandbox lint`` and ``schema``: scenario files for their authors and editors."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli.usage import SettingError
from app.scenarios.loader import load_file
from app.scenarios.schema import schema_json


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
        if loaded.model is not None:
            scenario_id = str(loaded.model.id)
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
    """Print or write the scenario JSON Schema (draft-07) for editors; exit 2 if it cannot."""
    text = schema_json()
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, "utf-8")
        except OSError as error:
            reason = error.strerror or str(error)
            raise SettingError(f"cannot write {output}: {reason}") from None
        click.echo(f"wrote {output}", err=True)
