"""The typer application and the settings every command receives."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="reclaim",
    help="Reclaim: reports, hash banks, matching and takedown for child-protection hotlines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def main() -> None:
    # Command modules register themselves on `app` when imported.
    from reclaim.cli import commands  # noqa: F401

    app()
