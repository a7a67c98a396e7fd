"""How the command line reports a usage error or a setting it cannot use: one line, exit 2."""

from __future__ import annotations

import click


class OneLineUsage(click.Command):
    """A usage error is one line (``Error: …``, exit 2), without click's usage banner."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does; drop the context so the error prints without the banner."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            error.ctx = None
            raise

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a usage error it finds (two options that do not go together)
        is one line too."""
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            error.ctx = None
            raise


class SettingError(click.ClickException):
    """A ``SANDBOX_*`` setting, a database or a path the command cannot use: one line, exit 2."""

    exit_code = 2
