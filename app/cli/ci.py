"""``byggesak-sandbox run``: score a client against scenarios, with reports a CI pipeline reads.

Exit 0 when every ``must`` expectation passed, 1 on conformance failures (a failed must,
too few musts exercised, a client that fell silent, failed or ran out of time), 2 on a
usage error, an unreachable target, a broken scenario or a client that cannot start.
Everything checkable is checked before the first run is created.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click
from werkzeug.serving import WSGIRequestHandler, make_server

from app.cli.ci_output import output_path, terminal_lines, write
from app.cli.usage import OneLineUsage, SettingError
from app.client_process import (
    ClientCommand,
    ClientCommandError,
    parse_client_cmd,
    stop_all_clients,
)
from app.errors import ConfigError
from app.expected import Listed, ListError, check_listed, read_listed
from app.runner import (
    ControlPlane,
    DriveOptions,
    RunnerError,
    apply_expected_failures,
    judge_run,
    play_scenario,
)
from app.scoring.result import combine
from app.watch import ExchangeTap, Feed, JournalFeed

FeedFor = Callable[[dict[str, Any]], Feed]


def default_jobs() -> int:
    """Scenarios at once by default: a run mostly waits for its client, so 4 a CPU, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(8, 4 * cpus))


class _QuietHandler(WSGIRequestHandler):
    """No access log on the terminal: the journal records every exchange."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Say nothing."""


@contextmanager
def embedded_sandbox(scenario_dir: str | None) -> Iterator[tuple[str, ExchangeTap]]:
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
            raise SettingError(str(error)) from None
        tap = ExchangeTap(app.wsgi_app)
        app.wsgi_app = tap  # type: ignore[method-assign]
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        # A short poll: shutdown() waits for the loop to look (0.5 s by default).
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", tap
        finally:
            server.shutdown()
            server.server_close()
            app.extensions["sandbox.engine"].dispose()


def _client_cmd(ctx: click.Context, param: click.Parameter, value: str) -> ClientCommand:
    try:
        return parse_client_cmd(value)
    except ClientCommandError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from None


def _expected(
    ctx: click.Context, param: click.Parameter, value: Path | None
) -> tuple[Path, list[Listed]] | None:
    if value is None:
        return None
    try:
        return value, read_listed(value)
    except ListError as exc:
        raise click.BadParameter(str(exc)) from None


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through the runs, which stop their clients' process groups.
    raise SystemExit(128 + signum)


@click.command("run", cls=OneLineUsage)
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
    callback=_client_cmd,
    help="The client to test; it gets BYGGESAK_* variables (see README).",
)
@click.option(
    "--server", default=None, help="Use this sandbox instead of starting an embedded one."
)
@click.option(
    "--tenant",
    default=None,
    help="With --server: start every run as this tenant's (see README).",
)
@click.option(
    "--scenario-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Embedded sandbox: the scenario library (default: the one installed with the tool).",
)
@click.option(
    "--seed", type=int, default=None, help="Seed for every run (default: each scenario's)."
)
@click.option("--junit", default=None, callback=output_path, help="JUnit XML report.")
@click.option("--json", "json_path", default=None, callback=output_path, help="The JSON result.")
@click.option("--html", default=None, callback=output_path, help="One offline HTML file.")
@click.option("--markdown", default=None, callback=output_path, help='e.g. "$GITHUB_STEP_SUMMARY".')
@click.option(
    "--expected-failures",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    callback=_expected,
    help="Lines 'scenario/expectation': those failures become warnings.",
)
@click.option(
    "--min-coverage",
    type=click.FloatRange(0.0, 1.0),
    default=1.0,
    show_default=True,
    help="Share of each run's musts that must be exercised (not skipped or left undecided).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.0),
    default=0.25,
    show_default=True,
    help="Told to the client as BYGGESAK_POLL_INTERVAL; polling the same API and reference again sooner than half of it fails polls_sanely.",
)
@click.option(
    "--settle",
    type=click.FloatRange(min=0.0),
    default=None,
    show_default="twice the poll interval, at least 0.3",
    help="A reaction is over once the client has been quiet this long after its last request (repeated polls are quiet).",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0.0, min_open=True),
    default=10.0,
    show_default=True,
    help="A client that makes no request for this long (at least 4 poll intervals) fails the run.",
)
@click.option(
    "--max-seconds",
    type=click.FloatRange(min=0.0, min_open=True),
    default=300.0,
    show_default=True,
    help="Hard limit per scenario: then the client is stopped and the run fails as timed out.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=default_jobs(),
    show_default="4 a CPU, at most 8",
    help="Scenarios played at once, each with its own run and client process.",
)
def run_command(
    scenarios: tuple[str, ...],
    client_cmd: ClientCommand,
    server: str | None,
    tenant: str | None,
    scenario_dir: Path | None,
    seed: int | None,
    junit: Path | None,
    json_path: Path | None,
    html: Path | None,
    markdown: Path | None,
    expected_failures: tuple[Path, list[Listed]] | None,
    min_coverage: float,
    poll_interval: float,
    settle: float | None,
    idle_timeout: float,
    max_seconds: float,
    jobs: int,
) -> None:
    """Run CLIENT-CMD against scenarios and report; exit 0 passed, 1 failures, 2 usage/target error."""
    if tenant is not None and server is None:
        # A tenant lives on a shared sandbox; the embedded one ends with the command.
        raise click.UsageError("--tenant needs --server (the sandbox the tenant lives on)")
    options = DriveOptions(
        poll_interval=poll_interval,
        # A reaction that spans two of the client's polls is still one reaction.
        settle=max(0.3, 2 * poll_interval) if settle is None else settle,
        idle_timeout=idle_timeout,
        max_seconds=max_seconds,
    )
    plan = _Plan(
        list(scenarios), client_cmd, options, seed, expected_failures, min_coverage, jobs, tenant
    )
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if server is None:
            with embedded_sandbox(str(scenario_dir) if scenario_dir else None) as (url, tap):
                document = plan.run(url, lambda run: tap.feed(run["credentials"]["username"]))
        else:
            document = plan.run(server, None)
    except (RunnerError, ListError, ClientCommandError) as exc:
        detail = exc.detail if isinstance(exc, RunnerError) else str(exc)
        if isinstance(exc, ClientCommandError):
            detail = f"--client-cmd {client_cmd.text!r}: {detail}"
        click.echo(f"error: {detail}", err=True)
        sys.exit(2)
    for path, kind in (
        (junit, "junit"),
        (json_path, "json"),
        (html, "html"),
        (markdown, "markdown"),
    ):
        write(path, kind, document)
    for run in document["runs"]:
        for line in terminal_lines(run):
            click.echo(line)
    sys.exit(0 if document["passed"] else 1)


class _Plan:
    """The runs one command makes, and how each is judged."""

    def __init__(
        self,
        selectors: list[str],
        command: ClientCommand,
        options: DriveOptions,
        seed: int | None,
        expected: tuple[Path, list[Listed]] | None,
        min_coverage: float,
        jobs: int,
        tenant: str | None = None,
    ) -> None:
        self.selectors = selectors
        self.command = command
        self.options = options
        self.seed = seed
        self.expected = expected
        self.min_coverage = min_coverage
        self.jobs = jobs
        self.tenant = tenant

    def run(self, server: str, feed_for: FeedFor | None) -> dict[str, Any]:
        """Check the plan against the sandbox, then play every scenario and combine."""
        token = os.environ.get("SANDBOX_ADMIN_TOKEN")
        control = ControlPlane(server, token)
        scenario_ids = control.scenario_ids(self.selectors)
        if self.tenant is not None:
            control.check_tenant(self.tenant)
        keys: frozenset[str] = frozenset()
        if self.expected is not None:
            path, listed = self.expected
            check_listed(path, listed, control.library({item.scenario for item in listed}))
            keys = frozenset(item.key for item in listed)

        def play(scenario_id: str) -> dict[str, Any]:
            click.echo(f"… {scenario_id}", err=True)
            # A control-plane session per scenario: requests' sessions are not shared by threads.
            own = ControlPlane(server, token)
            feeds = feed_for or (lambda run: _journal_feed(own, run))
            result = play_scenario(
                own, scenario_id, self.command, self.options, feeds, self.seed, self.tenant
            )
            apply_expected_failures(result, keys)
            judge_run(result, self.min_coverage)
            return result

        # Runs are independent (own credentials, clock and client process), so they may
        # overlap; the results keep the library's order whatever finishes first.
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            try:
                results = list(pool.map(play, scenario_ids))
            except BaseException:
                # The other runs end quickly once their clients are gone.
                pool.shutdown(wait=False, cancel_futures=True)
                stop_all_clients()
                raise
        return combine(results, server)


def _journal_feed(control: ControlPlane, run: dict[str, Any]) -> JournalFeed:
    def read(after: int) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = control.call(
            "GET", f"/sandbox/runs/{run['id']}/journal?etter={after}&limit=5000"
        )["entries"]
        return entries

    return JournalFeed(read)
