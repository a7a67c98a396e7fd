"""``byggesak-sandbox serve``: the sandbox under granian, as the Dockerfile and the README run it.

The defaults are the measured choice (bench/README.md, "Server settings"). Exit 0 on a
clean stop, 1 when a setting or the address cannot be used, 2 on a usage error.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket

import click
from flask import Flask

from app.cli.usage import OneLineUsage, SettingError
from app.errors import ConfigError
from app.store.journal_process import WriterProcess

WORKERS = 2
THREADS = 8
BACKLOG = 1024
# granian closes a keep-alive connection that sends nothing for this long (its HTTP/1
# header read timeout). A client that polls more often never meets a close, so it can
# never send a request into a connection the server is closing; 60 s is granian's maximum.
KEEP_ALIVE = 60
# A terminal's Ctrl-C reaches every worker as well as granian's main process, and granian
# 2.8's workers then never stop on their own (its bare hello-world does the same); past
# this many seconds it kills them. Safe: an answer leaves only after its journal entry
# is committed, so a killed worker loses nothing it answered.
WORKERS_KILL_TIMEOUT = 5


class _MeasuredThreads(logging.Filter):
    """Drop granian's warning about threads above 2 × cores + 1 for counts we measured."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every other record."""
        return not record.getMessage().startswith("Configuration allows spawning up to")


def check_address(host: str, port: int) -> None:
    """Fail with one line now if the address cannot be listened on, rather than in granian."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _name, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        reason = error.strerror or str(error)
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None


def run_granian(
    host: str,
    port: int,
    workers: int,
    threads: int,
    backlog: int = BACKLOG,
    keep_alive: int = KEEP_ALIVE,
    access_log: bool = False,
) -> None:
    """Serve ``app.create_app()`` over WSGI until a signal stops granian."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    server = Server(
        "app:create_app",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        # Each worker builds its own app: nothing opened before the fork is shared.
        factory=True,
        workers=workers,
        blocking_threads=threads,
        backlog=backlog,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=keep_alive * 1000),
        workers_kill_timeout=WORKERS_KILL_TIMEOUT,
        log_access=access_log,
    )
    if threads <= THREADS:
        logging.getLogger("_granian").addFilter(_MeasuredThreads())
    try:
        server.serve()
    except RuntimeError as error:  # granian's own bind errors come as RuntimeError
        raise click.ClickException(f"cannot serve on {host}:{port}: {error}") from None


def exposure_warning(host: str, admin_token: str | None) -> str | None:
    """The warning for a control plane open beyond loopback, or None when there is none."""
    if admin_token:
        return None
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        loopback = False
    if loopback:
        return None
    return (
        f"warning: listening on {host} with SANDBOX_ADMIN_TOKEN unset: anyone who reaches "
        "this port can create, drive and delete runs on /sandbox/ and /ui/; "
        "set SANDBOX_ADMIN_TOKEN to guard them"
    )


def _app_or_clear_error() -> Flask:
    """The app; a setting or database it cannot start with is one line and exit 2."""
    from app import create_app

    try:
        return create_app()
    except ConfigError as error:
        raise SettingError(str(error)) from None


@click.command("serve", cls=OneLineUsage)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="TCP port."
)
@click.option(
    "--workers",
    default=WORKERS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="granian worker processes.",
)
@click.option(
    "--threads",
    default=THREADS,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Python threads per worker running requests.",
)
@click.option(
    "--backlog",
    default=BACKLOG,
    show_default=True,
    type=click.IntRange(128, 65535),
    help="Connections the kernel holds before they are accepted.",
)
@click.option(
    "--keep-alive",
    default=KEEP_ALIVE,
    show_default=True,
    type=click.IntRange(1, 60),
    help="Seconds an idle keep-alive connection stays open.",
)
@click.option("--access-log", is_flag=True, help="Log every request (the journal records them).")
def serve_command(
    host: str,
    port: int,
    workers: int,
    threads: int,
    backlog: int,
    keep_alive: int,
    access_log: bool,
) -> None:
    """Serve the sandbox with granian; all state is in the database, so workers may be many."""
    # Built once here so that a bad setting stops the command with one line before any
    # worker starts, and the tables exist before workers race to create them.
    app = _app_or_clear_error()
    app.extensions["sandbox.engine"].dispose()
    warning = exposure_warning(host, app.config["ADMIN_TOKEN"])
    if warning:
        click.echo(warning, err=True)
    check_address(host, port)
    click.echo(
        f"byggesak-sandbox on http://{host}:{port}/  (database: {app.config['DATABASE_URL']})"
    )
    # One journal writer for every worker, in a process of its own (app.store.journal_process).
    writer = WriterProcess(app.config["DATABASE_URL"], int(app.config["JOURNAL_MAX_ENTRIES"]))
    writer.start()
    os.environ["SANDBOX_JOURNAL_SOCKET"] = writer.address
    try:
        run_granian(host, port, workers, threads, backlog, keep_alive, access_log)
    finally:
        writer.stop()
