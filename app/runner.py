"""Drive a client against scenario runs, the way a CI pipeline does, and collect the results.

For each scenario: create a run with the manual clock, start the client command with the
run's base URL and credentials in its environment, then move the kommune forward one step
at a time, each time waiting until the client's reaction is over (``app.watch.Reaction``:
quiet for the settle window after its last request that was not a repeated poll). When
steps wait for the client, the clock moves a day at a time, so deadlines can pass. When
nothing is left the client gets a grace period to finish; then the run is scored through
the control plane. A client that makes no request for the patience fails the run at once,
and ``max_seconds`` is a hard limit on the whole run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from app.client_process import ClientCommand, ClientProcess
from app.errors import SandboxError
from app.expected import read_listed
from app.scoring.tally import passes, recount
from app.vocabulary import fails
from app.watch import Feed, Reaction

ENV_PREFIX = "BYGGESAK_"
EXERCISED = frozenset({"PASSED", "FAILED", "WARNING"})


class RunnerError(SandboxError):
    """The target is unreachable, a scenario is unknown, or the control plane refused."""

    status = 2


@dataclass
class DriveOptions:
    """How patiently the runner waits for the client."""

    poll_interval: float = 0.25
    settle: float = 0.5
    idle_timeout: float = 10.0
    max_idle_days: int = 60
    grace: float = 10.0
    max_seconds: float = 300.0

    @property
    def patience(self) -> float:
        """Seconds the client may go without a request (a few of its polls at least)."""
        return max(self.idle_timeout, 4 * self.poll_interval)


class ControlPlane:
    """The sandbox's control plane over HTTP."""

    def __init__(self, server: str, token: str | None = None) -> None:
        self.server = server.rstrip("/")
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call; RunnerError with the sandbox's message when it fails."""
        try:
            response = self.http.request(method, f"{self.server}{path}", json=body, timeout=60)
        except requests.RequestException as exc:
            raise RunnerError(
                f"cannot reach the sandbox at {self.server} ({exc.__class__.__name__})"
            ) from exc
        if response.status_code >= 400:
            try:
                answer = response.json()
                problems = answer.get("errors", [])
                detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
                detail = detail or str(answer.get("detail", ""))
            except (ValueError, AttributeError):
                detail = response.text[:200]
            raise RunnerError(f"{method} {path} answered {response.status_code}: {detail}")
        return response.json() if response.content else None

    def check_tenant(self, name: str) -> None:
        """RunnerError unless the sandbox has the tenant ``name``."""
        try:
            self.call("GET", f"/sandbox/tenants/{quote(name, safe='')}")
        except RunnerError as exc:
            if " answered 404" not in exc.detail:
                raise
            raise RunnerError(
                f"--tenant {name}: the sandbox at {self.server} has no such tenant "
                f"(byggesak-sandbox tenants create {name})"
            ) from exc

    def scenario_ids(self, selectors: list[str]) -> list[str]:
        """Scenario ids for ids or tags, in library order, each once."""
        listing = self.call("GET", "/sandbox/scenarios")
        catalogue = listing["scenarios"]
        chosen: list[str] = []
        for selector in selectors:
            matched = [
                s["id"] for s in catalogue if selector in (s["id"], "all") or selector in s["tags"]
            ]
            if not matched:
                known = ", ".join(s["id"] for s in catalogue)
                broken = "".join(f"\n  {p}" for p in listing.get("problems", []))
                raise RunnerError(
                    f"no scenario or tag '{selector}'; scenarios: {known}"
                    + (f"\nscenario files with problems:{broken}" if broken else "")
                )
            chosen.extend(m for m in matched if m not in chosen)
        return chosen

    def library(self, scenario_ids: set[str]) -> dict[str, set[str]]:
        """The verdict ids of each of these scenarios that the library has: its own
        expectations and the protocol checks every run gets."""
        listed = self.call("GET", "/sandbox/scenarios")["scenarios"]
        return {s["id"]: set(s["verdicts"]) for s in listed if s["id"] in scenario_ids}


def client_environment(
    run: dict[str, Any], scenario: dict[str, Any], options: DriveOptions
) -> dict[str, str]:
    """What the client command gets to know (documented in README, "CI")."""
    planned = [
        {k: v for k, v in i.items() if k not in ("id", "innsendt_av")}
        for i in (scenario.get("case") or {}).get("innsendinger") or []
        if i.get("innsendt_av") == "client"
    ]
    return {
        f"{ENV_PREFIX}BASE_URL": run["baseUrl"],
        f"{ENV_PREFIX}API_BASE_URL": run["apiBaseUrl"],
        f"{ENV_PREFIX}USERNAME": run["credentials"]["username"],
        f"{ENV_PREFIX}PASSWORD": run["credentials"]["password"],
        f"{ENV_PREFIX}INNSENDINGSREFERANSER": ",".join(run["innsendingReferanser"]),
        f"{ENV_PREFIX}CLIENT_INNSENDINGER": json.dumps(planned, ensure_ascii=False),
        f"{ENV_PREFIX}RUN_ID": run["id"],
        f"{ENV_PREFIX}SCENARIO": scenario["id"],
        f"{ENV_PREFIX}POLL_INTERVAL": str(options.poll_interval),
        f"{ENV_PREFIX}MAX_SECONDS": str(options.max_seconds),
    }


class Driver:
    """One scenario run with one client process, to the end or to the time limit."""

    def __init__(
        self,
        control: ControlPlane,
        run: dict[str, Any],
        client: ClientProcess,
        feed: Feed,
        options: DriveOptions,
    ) -> None:
        self.control = control
        self.run = run
        self.client = client
        self.feed = feed
        self.options = options
        self.deadline = client.started + options.max_seconds
        self.requests = 0
        self.done = False
        self.timed_out = False
        self.error: str | None = None

    def settle(self, since: float, after: str, first: bool = False) -> str:
        """Wait until the client's reaction to what happened at ``since`` is over
        (``first``: until its first request).

        ``settled`` (or the reaction went on past the patience: the kommune moves on),
        ``exited``, ``silent`` (no request at all in the patience) or ``timeout``.
        """
        reaction = Reaction(since)
        began = time.monotonic()
        patience = self.options.patience
        while True:
            for exchange in self.feed.take():
                self.requests += 1
                reaction.add(exchange)
            if not self.client.alive:
                return "exited"
            now = time.monotonic()
            if now >= self.deadline:
                return "timeout"
            if first and reaction.requests:
                return "settled"
            over = reaction.over_at(self.options.settle)
            left = None if over is None else over - time.time()
            if left is not None and left <= 0 and not self.feed.busy_since(since):
                return "settled"
            if now - began >= patience:
                if reaction.requests:
                    return "settled"
                self.error = f"the client made no request in {patience:g} s after {after}"
                return "silent"
            wake = min(self.deadline, began + patience)
            if left is not None:
                wake = min(wake, now + max(left, 0.005))
            self.feed.wait(wake)

    def drive(self) -> None:
        """Move the kommune forward until nothing is left, the client falls silent or time is up."""
        run_id = self.run["id"]
        idle_days = 0
        # Once the client is talking, the first step may fire: it will see it on its next poll.
        outcome = self.settle(time.time() - self.client.seconds(), "it started", first=True)
        # The kommune goes on even when the client has stopped: what it then misses is scored.
        while outcome not in ("silent", "timeout"):
            alive = self.client.alive
            if not alive:
                self._note_exit()
            if time.monotonic() >= self.deadline:
                outcome = "timeout"
                break
            step = self.control.call("POST", f"/sandbox/runs/{run_id}/next")
            if step["fired"]:
                idle_days = 0
                if alive:
                    outcome = self.settle(time.time(), f"step '{step['fired'][-1]}'")
                continue
            if alive and step["waitingForClient"] and idle_days < self.options.max_idle_days:
                moved = self.control.call(
                    "POST", f"/sandbox/runs/{run_id}/clock", {"advance": "P1D"}
                )
                idle_days += 1
                outcome = self.settle(time.time(), f"the clock moved to {moved['now'][:10]}")
                continue
            self.done = True
            break
        if outcome == "timeout":
            self.timed_out = True
            self.error = self._timeout_reason()
        elif self.done and self.client.wait(
            min(self.options.grace, self.deadline - time.monotonic())
        ):
            # A client that fails in the grace has failed: its exit code is its own verdict.
            self._note_exit()

    def _note_exit(self) -> None:
        code = self.client.exit_code
        if self.error is None and code:
            how = f"code {code}" if code > 0 else f"signal {-code}"
            when = "after the last step" if self.done else "before the run was done"
            self.error = f"the client exited with {how} after {self.client.seconds():.2f} s, {when}"

    def _timeout_reason(self) -> str:
        limit = f"--max-seconds {self.options.max_seconds:g}"
        if self.requests == 0:
            return f"the client made no request in {self.options.max_seconds:g} s; timed out at {limit}"
        return f"timed out: the run was not done after {limit}, so the client was stopped"


def play_scenario(
    control: ControlPlane,
    scenario_id: str,
    command: ClientCommand,
    options: DriveOptions,
    feed_for: Callable[[dict[str, Any]], Feed],
    seed: int | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Run one scenario against the client command (a run of ``tenant``'s, if given);
    return the scored result."""
    began = time.monotonic()
    body: dict[str, Any] = {
        "scenario": scenario_id,
        "clock": {"mode": "manual"},
        "pollInterval": options.poll_interval,
    }
    if seed is not None:
        body["seed"] = seed
    if tenant is not None:
        body["tenant"] = tenant
    run = control.call("POST", "/sandbox/runs", body)
    scenario = control.call("GET", f"/sandbox/scenarios/{scenario_id}")
    env = {**os.environ, **client_environment(run, scenario, options)}
    feed = feed_for(run)
    try:
        client = ClientProcess(command, env, on_exit=feed.poke)
        driver = Driver(control, run, client, feed, options)
        try:
            driver.drive()
        finally:
            client.stop()
    finally:
        feed.close()
    control.call("POST", f"/sandbox/runs/{run['id']}/finish")
    result: dict[str, Any] = control.call("GET", f"/sandbox/runs/{run['id']}/result")
    result["client"] = {
        "command": command.text,
        "exitCode": client.exit_code,
        "seconds": round(client.seconds(), 3),
        "timedOut": driver.timed_out,
        "outputTail": client.output.text(),
        "stderrTail": client.errors.text(),
    }
    if driver.error:
        result["error"] = driver.error
    result["seconds"] = round(time.monotonic() - began, 3)
    return result


def judge_run(result: dict[str, Any], min_coverage: float) -> None:
    """Fail a run that did not get to its end or exercised too few musts, whatever its verdicts.

    Call it after :func:`apply_expected_failures`, which sets ``passed`` from the verdicts.
    Below 1, ``min_coverage`` takes over from the verdicts the judgement of musts the run
    never exercised (SKIPPED): they fail the run only when too many are left.
    """
    if min_coverage < 1:
        result["passed"] = passes(result, skipped_ok=True)
    problems = [result["error"]] if result.get("error") else []
    musts = [v for v in result["verdicts"] if fails(v["severity"]) and not v.get("optional")]
    missed = [v["id"] for v in musts if v["status"] not in EXERCISED]
    share = 1 - len(missed) / len(musts) if musts else 1.0
    result["mustCoverage"] = round(share, 4)
    if share < min_coverage - 1e-9:
        problems.append(
            f"{share:.0%} of the musts were exercised, below --min-coverage {min_coverage:.0%} "
            f"(not exercised: {', '.join(missed)})"
        )
    if problems:
        result["error"] = "; ".join(problems)
        result["passed"] = False


def apply_expected_failures(result: dict[str, Any], expected: frozenset[str]) -> None:
    """Turn listed failures into warnings, so only new regressions fail the build."""
    scenario_id = result["scenario"]["id"]
    for verdict in result["verdicts"]:
        if f"{scenario_id}/{verdict['id']}" not in expected:
            continue
        verdict["expectedFailure"] = True
        if verdict["status"] == "FAILED":
            verdict["status"] = "WARNING"
            verdict["reason"] = f"expected failure: {verdict['reason']}"
        elif verdict["status"] == "PASSED":
            verdict["reason"] += (
                " (listed as an expected failure, but passed: remove it from the list)"
            )
    recount(result)


def load_expected_failures(path: Path) -> frozenset[str]:
    """Read ``scenario/expectation`` lines (``#`` starts a comment) or a YAML list of them."""

    return frozenset(item.key for item in read_listed(path))
