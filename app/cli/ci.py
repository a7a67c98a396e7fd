"""``byggesak-sandbox run``: score a client against scenarios, with reports a CI pipeline reads.

Exit 0 when every ``must`` expectation passed, 1 on conformance failures, 2 on a usage
error, an unreachable target or a broken scenario.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from werkzeug.serving import WSGIRequestHandler, make_server

from app.errors import ConfigError
from app.reports import RENDERERS
from app.runner import (
    ControlPlane,
    DriveOptions,
    RunnerError,
    apply_expected_failures,
    load_expected_failures,
    play_scenario,
)
from app.scoring.result import combine
from app.scoring.tally import blocks, percent


class _QuietHandler(WSGIRequestHandler):
    """No access log on the terminal: the journal records every exchange."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Say nothing."""


@contextmanager
def embedded_sandbox(scenario_dir: str | None) -> Iterator[str]:
    """A sandbox on a free loopback port with its own SQLite file (or SANDBOX_DATABASE_URL)."""
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="byggesak-sandbox-") as folder:
        config: dict[str, Any] = {"SCENARIO_RELOAD": False}
        if not os.environ.get("SANDBOX_DATABASE_URL"):
            config["DATABASE_URL"] = f"sqlite:///{Path(folder) / 'sandbox.db'}"
        if scenario_dir:
            config["SCENARIO_DIR"] = scenario_dir
        try:
            app = create_app(config)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        # A short poll: shutdown() waits for the loop to look (0.5 s by default).
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            app.extensions["sandbox.engine"].dispose()


def _write(path: Path | None, kind: str, document: dict[str, Any]) -> None:
    if path is None:
        return
    text = RENDERERS[kind](document)
    if kind == "markdown" and path.exists() and os.environ.get("GITHUB_STEP_SUMMARY") == str(path):
        with path.open("a", encoding="utf-8") as handle:  # the step summary is appended to
            handle.write(text)
        return
    path.write_text(text, "utf-8")


@click.command("run")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    required=True,
    help="Scenario id or tag; repeat for more ('all' for the library).",
)
@click.option(
    "--client-cmd",
    required=True,
    help="The client to test; it gets BYGGESAK_* variables (see README).",
)
@click.option(
    "--server", default=None, help="Use this sandbox instead of starting an embedded one."
)
@click.option(
    "--scenario-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Embedded sandbox: the scenario library (default: scenarios/).",
)
@click.option(
    "--seed", type=int, default=None, help="Seed for every run (default: each scenario's)."
)
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help='e.g. "$GITHUB_STEP_SUMMARY".',
)
@click.option(
    "--expected-failures",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Lines 'scenario/expectation': those failures become warnings.",
)
@click.option(
    "--poll-interval",
    type=float,
    default=0.25,
    show_default=True,
    help="Told to the client as BYGGESAK_POLL_INTERVAL; polling the same API and reference again sooner than half of it fails polls_sanely.",
)
@click.option(
    "--settle",
    type=float,
    default=0.3,
    show_default=True,
    help="Seconds the client gets to react after each kommune step.",
)
@click.option("--max-seconds", type=float, default=300.0, show_default=True, help="Per scenario.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Scenarios played at once, each with its own run and client process.",
)
def run_command(
    scenarios: tuple[str, ...],
    client_cmd: str,
    server: str | None,
    scenario_dir: Path | None,
    seed: int | None,
    junit: Path | None,
    json_path: Path | None,
    html: Path | None,
    markdown: Path | None,
    expected_failures: Path | None,
    poll_interval: float,
    settle: float,
    max_seconds: float,
    jobs: int,
) -> None:
    """Run CLIENT-CMD against scenarios and report; exit 0 passed, 1 failures, 2 usage/target error."""
    expected = load_expected_failures(expected_failures) if expected_failures else frozenset()
    options = DriveOptions(poll_interval=poll_interval, settle=settle, max_seconds=max_seconds)
    try:
        if server is None:
            with embedded_sandbox(str(scenario_dir) if scenario_dir else None) as url:
                document = _run_all(url, list(scenarios), client_cmd, options, seed, expected, jobs)
        else:
            document = _run_all(server, list(scenarios), client_cmd, options, seed, expected, jobs)
    except RunnerError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(2)
    for path, kind in (
        (junit, "junit"),
        (json_path, "json"),
        (html, "html"),
        (markdown, "markdown"),
    ):
        _write(path, kind, document)
    for run in document["runs"]:
        mark = "PASS" if run["passed"] else "FAIL"
        click.echo(
            f"{mark} {run['scenario']['id']}: score {percent(run['score'])}, "
            f"coverage {percent(run['coverage'])}, "
            f"{run['counts']['FAILED']} failed, {run['counts']['WARNING']} warnings"
        )
        for verdict in run["verdicts"]:
            if verdict["status"] == "WARNING" or blocks(verdict):
                click.echo(
                    f"  {verdict['status']} {verdict['id']}: {verdict['firstDivergence'] or verdict['reason']}"
                )
    sys.exit(0 if document["passed"] else 1)


def _run_all(
    server: str,
    selectors: list[str],
    client_cmd: str,
    options: DriveOptions,
    seed: int | None,
    expected: frozenset[str],
    jobs: int = 1,
) -> dict[str, Any]:
    token = os.environ.get("SANDBOX_ADMIN_TOKEN")
    scenario_ids = ControlPlane(server, token).scenario_ids(selectors)

    def play(scenario_id: str) -> dict[str, Any]:
        click.echo(f"… {scenario_id}", err=True)
        # A control-plane session per scenario: requests' sessions are not shared by threads.
        result = play_scenario(ControlPlane(server, token), scenario_id, client_cmd, options, seed)
        apply_expected_failures(result, expected)
        return result

    # Runs are independent (own credentials, clock and client process), so they may
    # overlap; the results keep the library's order whatever finishes first.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(play, scenario_ids))
    return combine(results, server)
