"""`reclaim platform list|seed|import|export`: the platform directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import typer
from rich.table import Table

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.platforms.directory import (
    Format,
    PlatformImportError,
    export_records,
    import_records,
    parse_records,
    seed_records,
    write_records,
)

platform_app = typer.Typer(help="The platform directory: who hosts what.", no_args_is_help=True)
app.add_typer(platform_app, name="platform")

OPERATOR = audit.Actor(ActorKind.OPERATOR)
FORMATS = ("json", "csv")


def _format(value: str | None, path: Path | None) -> Format:
    chosen = value or (path.suffix.lstrip(".").lower() if path else "json")
    if chosen not in FORMATS:
        raise fail(f"unknown format {chosen!r}: use json or csv", 2)
    return cast(Format, chosen)


@platform_app.command("list")
def platform_list() -> None:
    """List the platforms, their domains and whether they can be reached."""
    with database(settings()) as session:
        records = export_records(session)
    table = Table("platform", "domains", "abuse email", "webhook", "language")
    for record in records:
        table.add_row(
            record.name,
            " ".join(record.domains),
            record.abuse_email or "[yellow]missing[/yellow]",
            "yes" if record.webhook_url else "",
            record.language,
        )
    console.print(table)


@platform_app.command("seed")
def platform_seed() -> None:
    """Add the platforms Reclaim ships with (keeps contacts already filled in)."""
    with database(settings()) as session:
        outcome = import_records(session, seed_records(), actor=OPERATOR)
    console.print(f"{outcome.created} platforms added, {outcome.updated} already known.")


@platform_app.command("import")
def platform_import(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .json or .csv file."),
    fmt: str | None = typer.Option(None, "--format", help="json or csv (default: by suffix)."),
) -> None:
    """Import platforms; the whole file is checked first and one bad row changes nothing."""
    chosen = _format(fmt, path)
    try:
        records = parse_records(path.read_text("utf-8"), chosen)
        with database(settings()) as session:
            outcome = import_records(session, records, actor=OPERATOR)
    except PlatformImportError as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]")
        raise fail("nothing was imported", 1) from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text", 1) from None
    console.print(
        f"{outcome.created} platforms added, {outcome.updated} updated, "
        f"{outcome.domains} domains added."
    )


@platform_app.command("export")
def platform_export(
    output: Path | None = typer.Option(None, "-o", "--output", help="File (default: stdout)."),
    fmt: str | None = typer.Option(None, "--format", help="json or csv."),
) -> None:
    """Export the directory (webhook secrets are never exported)."""
    chosen = _format(fmt, output)
    with database(settings()) as session:
        text = write_records(export_records(session), chosen)
    if output is None:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    else:
        output.write_text(text, "utf-8")
