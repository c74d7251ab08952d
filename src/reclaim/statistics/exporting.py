"""The figures for machines and spreadsheets: JSON, and CSV with a byte-order mark.

The schema (table keys, columns, codes) is documented in ``docs/statistics.md``;
``schema`` in the JSON names its version.  Cells are codes (``adult_ncii``), never
translated words, so a script written against one language's export reads every one.
"""

from __future__ import annotations

import enum
import json
from typing import Any

from reclaim.documents.spreadsheet import Cell, csv_for_people
from reclaim.statistics.domain import Table
from reclaim.statistics.figures import SCHEMA_VERSION, Figures, tables


def _code(cell: object) -> Cell:
    if isinstance(cell, enum.Enum):
        return str(cell.value)
    if cell is None or isinstance(cell, str | int | float):
        return cell
    return str(cell)


def as_json(figures: Figures) -> dict[str, Any]:
    where = figures.where
    return {
        "schema": SCHEMA_VERSION,
        "generated_at": figures.generated_at.isoformat(),
        "period": {
            "first": where.period.first.isoformat(),
            "last": where.period.last.isoformat(),
            "time_zone": where.period.zone.key,
        },
        "filter": {
            "platform_id": where.platform_id,
            "classification": where.classification.value if where.classification else None,
            "urgent": where.urgent,
        },
        "tables": {
            table.key: {
                "columns": list(table.columns),
                "rows": [[_code(cell) for cell in row] for row in table.rows],
            }
            for table in tables(figures)
        },
    }


def json_bytes(figures: Figures) -> bytes:
    return json.dumps(as_json(figures), ensure_ascii=False, indent=2).encode("utf-8")


def table_named(figures: Figures, key: str) -> Table:
    for table in tables(figures):
        if table.key == key:
            return table
    raise KeyError(f"no table {key!r}; tables: {', '.join(t.key for t in tables(figures))}")


def csv_bytes(figures: Figures, key: str | None = None) -> bytes:
    """One table as CSV (its own columns), or every table in long form: ``table, row,
    column, value`` (one line per cell)."""
    if key is not None:
        table = table_named(figures, key)
        return csv_for_people(table.columns, ([_code(c) for c in row] for row in table.rows))
    return csv_for_people(
        ("table", "row", "column", "value"),
        (
            (table.key, number, column, _code(cell))
            for table in tables(figures)
            for number, row in enumerate(table.rows, start=1)
            for column, cell in zip(table.columns, row, strict=True)
        ),
    )
