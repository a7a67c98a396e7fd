"""``byggesak-sandbox runs …``: start and drive runs through a sandbox's control plane over HTTP."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
import requests

from app.vocabulary import CLOCK_MODES

DEFAULT_SERVER = "http://127.0.0.1:8080"


def _call(ctx: click.Context, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    server: str = ctx.obj["server"]
    headers = {}
    token = os.environ.get("SANDBOX_ADMIN_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = requests.request(
            method, f"{server.rstrip('/')}{path}", json=body, headers=headers, timeout=30
        )
    except requests.RequestException as exc:
        click.echo(
            f"error: cannot reach the sandbox at {server}: {exc.__class__.__name__}", err=True
        )
        sys.exit(2)
    if response.status_code == 204:
        return None
    try:
        data = response.json()
    except ValueError:
        click.echo(f"error: {response.status_code} from {server}: not JSON", err=True)
        sys.exit(2)
    if response.status_code >= 400:
        for problem in data.get("errors", []):
            click.echo(f"error: {problem['field']}: {problem['message']}", err=True)
        sys.exit(2 if response.status_code in (400, 401, 404) else 1)
    return data


def _server_here(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # `runs next RUN --server URL` works as well as `runs --server URL next RUN`.
    if value:
        ctx.ensure_object(dict)["server"] = value


server_here = click.option(
    "--server",
    default=None,
    expose_value=False,
    callback=_server_here,
    help="The sandbox's base URL (also accepted before the command).",
)


def _show(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


# The sandbox a command talks to: every group of control-plane commands takes it.
server_option = click.option(
    "--server",
    default=lambda: os.environ.get("SANDBOX_SERVER", DEFAULT_SERVER),
    show_default="$SANDBOX_SERVER or " + DEFAULT_SERVER,
    help="The sandbox's base URL.",
)


@click.group("runs")
@server_option
@click.pass_context
def runs_group(ctx: click.Context, server: str) -> None:
    """Start and drive runs on a sandbox (SANDBOX_ADMIN_TOKEN is sent when set)."""
    ctx.obj = {"server": server}


@runs_group.command("start")
@click.argument("scenario")
@click.option("--seed", type=int, default=None, help="Seed (default: the scenario's).")
@click.option(
    "--clock",
    "mode",
    type=click.Choice(list(CLOCK_MODES)),
    default="manual",
    show_default=True,
)
@click.option("--factor", type=float, default=None, help="accelerated: virtual s per real s.")
@click.option("--step", default=None, help="on_poll: clock step per request, e.g. PT6H.")
@click.option(
    "--env", "as_env", is_flag=True, help="Print the BYGGESAK_* shell exports a client reads."
)
@server_here
@click.pass_context
def start_command(
    ctx: click.Context,
    scenario: str,
    seed: int | None,
    mode: str,
    factor: float | None,
    step: str | None,
    as_env: bool,
) -> None:
    """Start a run of SCENARIO; print its id, base URL, credentials and references."""
    clock: dict[str, Any] = {"mode": mode}
    if factor is not None:
        clock["factor"] = factor
    if step is not None:
        clock["step"] = step
    body: dict[str, Any] = {"scenario": scenario, "clock": clock}
    if seed is not None:
        body["seed"] = seed
    run = _call(ctx, "POST", "/sandbox/runs", body)
    if as_env:
        click.echo(f"export BYGGESAK_RUN_ID={run['id']}")
        click.echo(f"export BYGGESAK_BASE_URL={run['baseUrl']}")
        click.echo(f"export BYGGESAK_API_BASE_URL={run['apiBaseUrl']}")
        click.echo(f"export BYGGESAK_USERNAME={run['credentials']['username']}")
        click.echo(f"export BYGGESAK_PASSWORD={run['credentials']['password']}")
        click.echo(f"export BYGGESAK_INNSENDINGSREFERANSER={','.join(run['innsendingReferanser'])}")
        click.echo(f"export BYGGESAK_POLL_INTERVAL={run['pollInterval']}")
    else:
        _show(run)


@runs_group.command("next")
@click.argument("run_id")
@server_here
@click.pass_context
def next_command(ctx: click.Context, run_id: str) -> None:
    """Jump to the kommune's next step."""
    _show(_call(ctx, "POST", f"/sandbox/runs/{run_id}/next"))


@runs_group.command("advance")
@click.argument("run_id")
@click.argument("duration")
@server_here
@click.pass_context
def advance_command(ctx: click.Context, run_id: str, duration: str) -> None:
    """Move the run's clock forward by DURATION (ISO-8601, e.g. P2D)."""
    _show(_call(ctx, "POST", f"/sandbox/runs/{run_id}/clock", {"advance": duration}))


@runs_group.command("timeline")
@click.argument("run_id")
@server_here
@click.pass_context
def timeline_command(ctx: click.Context, run_id: str) -> None:
    """Show every step with its status and times."""
    _show(_call(ctx, "GET", f"/sandbox/runs/{run_id}/timeline"))


@runs_group.command("finish")
@click.argument("run_id")
@server_here
@click.pass_context
def finish_command(ctx: click.Context, run_id: str) -> None:
    """End the run."""
    _show(_call(ctx, "POST", f"/sandbox/runs/{run_id}/finish"))


@runs_group.command("delete")
@click.argument("run_id")
@server_here
@click.pass_context
def delete_command(ctx: click.Context, run_id: str) -> None:
    """Delete the run and everything it recorded."""
    _call(ctx, "DELETE", f"/sandbox/runs/{run_id}")
    click.echo(f"deleted {run_id}", err=True)
