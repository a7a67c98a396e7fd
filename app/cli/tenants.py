"""``byggesak-sandbox tenants …``: manage a sandbox's tenants through its control plane over HTTP."""

from __future__ import annotations

import json
from typing import Any

import click

from app.cli.runs import _call, _show, server_here, server_option
from app.vocabulary import CLOCK_MODES


@click.group("tenants")
@server_option
@click.pass_context
def tenants_group(ctx: click.Context, server: str) -> None:
    """Tenants: fixed credentials for a staging system (SANDBOX_ADMIN_TOKEN is sent when set)."""
    ctx.obj = {"server": server}


@tenants_group.command("create")
@click.argument("name")
@click.option("--username", default=None, help="Default: the name.")
@click.option(
    "--password",
    default=None,
    envvar="SANDBOX_TENANT_PASSWORD",
    help="Default: a fresh one, shown once ($SANDBOX_TENANT_PASSWORD keeps it off argv).",
)
@click.option("--scenario", default=None, help="The scenario a søknad without marker plays.")
@click.option(
    "--rule",
    "rules",
    multiple=True,
    help='A rule as JSON, e.g. \'{"soknadstype": "ET", "scenario": "splitting"}\'.',
)
@click.option("--clock", "mode", type=click.Choice(list(CLOCK_MODES)), default="realtime")
@click.option("--factor", type=float, default=None, help="accelerated: virtual s per real s.")
@click.option("--step", default=None, help="on_poll: clock step per request, e.g. PT6H.")
@click.option("--retention", default="P30D", show_default=True, help="ISO-8601 duration.")
@server_here
@click.pass_context
def create_command(
    ctx: click.Context,
    name: str,
    username: str | None,
    password: str | None,
    scenario: str | None,
    rules: tuple[str, ...],
    mode: str,
    factor: float | None,
    step: str | None,
    retention: str,
) -> None:
    """Create tenant NAME; print it with its credentials (the only time the password shows)."""
    clock: dict[str, Any] = {"mode": mode}
    if factor is not None:
        clock["factor"] = factor
    if step is not None:
        clock["step"] = step
    try:
        parsed = [json.loads(rule) for rule in rules]
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--rule") from None
    body: dict[str, Any] = {"name": name, "clock": clock, "retention": retention, "rules": parsed}
    for key, value in (("username", username), ("password", password), ("scenario", scenario)):
        if value is not None:
            body[key] = value
    _show(_call(ctx, "POST", "/sandbox/tenants", body))


@tenants_group.command("list")
@server_here
@click.pass_context
def list_command(ctx: click.Context) -> None:
    """List the tenants (never their passwords)."""
    _show(_call(ctx, "GET", "/sandbox/tenants"))


@tenants_group.command("rotate")
@click.argument("name")
@click.option("--password", default=None, envvar="SANDBOX_TENANT_PASSWORD")
@server_here
@click.pass_context
def rotate_command(ctx: click.Context, name: str, password: str | None) -> None:
    """Give tenant NAME a new password; print it (the old one stops working)."""
    body = {"password": password} if password is not None else {}
    _show(_call(ctx, "POST", f"/sandbox/tenants/{name}/password", body))


@tenants_group.command("delete")
@click.argument("name")
@server_here
@click.pass_context
def delete_command(ctx: click.Context, name: str) -> None:
    """Delete tenant NAME with its runs."""
    _call(ctx, "DELETE", f"/sandbox/tenants/{name}")
    click.echo(f"deleted {name}", err=True)


@tenants_group.command("next")
@click.argument("name")
@click.argument("scenario", required=False)
@server_here
@click.pass_context
def next_command(ctx: click.Context, name: str, scenario: str | None) -> None:
    """Pick SCENARIO for tenant NAME's next søknad (left out: clear the pick); print the tenant."""
    _show(_call(ctx, "PUT", f"/sandbox/tenants/{name}/next", {"scenario": scenario}))
