"""`reclaim stats`: the statistics for a period and filter, as tables, CSV or JSON.

The CSV (UTF-8 with a byte-order mark) and JSON follow the schema in docs/statistics.md.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum

import typer
from rich.table import Table as RichTable

from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.domain.times import local
from reclaim.statistics import exporting
from reclaim.statistics.domain import FilterError, parse_filter
from reclaim.statistics.figures import compute, tables


class Output(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


@app.command("stats")
def stats(  # noqa: PLR0917 - typer options
    first: str = typer.Option(None, "--from", help="First day (2026-01-01) or month (2026-01)."),
    last: str = typer.Option(None, "--to", help="Last day or month; default: today."),
    platform: int = typer.Option(None, help="Only this platform's notices (its number)."),
    kind: str = typer.Option(None, "--type", help="Only this type (csam, adult_ncii, ...)."),
    urgent: str = typer.Option(None, help="yes: urgent cases only; no: the others."),
    output: Output = typer.Option(Output.TABLE, "--format", help="table, csv or json."),
    table: str = typer.Option(None, help="CSV: only this table (its key), with its columns."),
) -> None:
    """Figures for a period (default: the last 12 months) as tables, CSV or JSON."""
    config = settings()
    now = datetime.now(UTC)
    try:
        where = parse_filter(
            first=first,
            last=last,
            zone=config.zone,
            today=local(now, config.zone).date(),
            platform_id=platform,
            classification=kind,
            urgent=urgent,
        )
    except FilterError as exc:
        raise fail(str(exc)) from exc
    with database(config) as session:
        figures = compute(session, where, now)
    if output is Output.JSON:
        sys.stdout.buffer.write(exporting.json_bytes(figures) + b"\n")
        return
    if output is Output.CSV:
        try:
            sys.stdout.buffer.write(exporting.csv_bytes(figures, table))
        except KeyError as exc:
            raise fail(str(exc.args[0])) from exc
        return
    console.print(f"Figures for {where.period.label()} ({where.period.zone.key})")
    for shown in tables(figures):
        if table and shown.key != table:
            continue
        view = RichTable(title=shown.key, title_justify="left")
        for column in shown.columns:
            view.add_column(column)
        for row in shown.rows:
            view.add_row(
                *("" if cell is None else str(getattr(cell, "value", cell)) for cell in row)
            )
        console.print(view)
