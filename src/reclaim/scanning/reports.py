"""A finished scan's outputs: JSON lines, CSV, Parquet (with pyarrow) and an HTML summary.

Written from the part files once every unit has a result, each key once, in key order,
as a stream (:func:`reclaim.scanning.merge.merged`): every output is written result by
result (Parquet in row groups of :data:`PARQUET_ROWS`), so the memory the writer needs
does not grow with the number of results.  Matched content is never copied: the
outputs hold hashes, sizes, where a file was and which bank entries it matched.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment

from reclaim.documents.spreadsheet import Cell, write_csv_for_people
from reclaim.scanning.parts import Record

#: Rows of a Parquet row group (one batch held at a time).
PARQUET_ROWS = 10_000
#: Parquet types of the columns that are numbers (the others are text).
_NUMBERS = frozenset({"size", "width", "height", "quality", "frames", "best_distance"})

COLUMNS = (
    "key",
    "source",
    "origin",
    "kind",
    "format",
    "size",
    "width",
    "height",
    "md5",
    "sha256",
    "pdq",
    "quality",
    "frames",
    "vpdq",
    "matched",
    "banks",
    "categories",
    "best_distance",
    "verified_match",
    "error_kind",
    "error",
)


@dataclass
class Summary:
    """What the HTML summary shows."""

    files: int = 0
    hashed: int = 0
    matched: int = 0
    videos_matched: int = 0  # videos that matched a banked video under vPDQ's rule
    archives: int = 0
    by_bank: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def row(record: Record) -> list[Cell]:
    """One CSV/Parquet row for a result line."""
    matches = record.get("matches") or []
    error = record.get("error") or {}
    return [
        record["key"],
        record.get("source"),
        record.get("origin"),
        record.get("kind"),
        record.get("format"),
        record.get("size"),
        record.get("width"),
        record.get("height"),
        record.get("md5"),
        record.get("sha256"),
        record.get("pdq"),
        record.get("quality"),
        record.get("frames"),
        record.get("vpdq"),
        "yes" if matches else "no",
        ";".join(sorted({m["bank"] for m in matches})),
        ";".join(sorted({m["category"] for m in matches})),
        min((m["distance"] for m in matches if "distance" in m), default=None),
        "yes" if any(m["verified"] for m in matches) else "no",
        error.get("kind"),
        error.get("message"),
    ]


def summarise(records: Iterable[Record]) -> Summary:
    summary = Summary()
    for record in records:
        count(summary, record)
    return summary


def count(summary: Summary, record: Record) -> None:
    """Add one result to the summary."""
    if record.get("origin") == "archive":
        summary.archives += 1
        if record.get("error"):
            summary.errors[record["error"]["kind"]] += 1
        return
    summary.files += 1
    if record.get("error"):
        summary.errors[record["error"]["kind"]] += 1
        return
    summary.hashed += 1
    matches = record.get("matches") or []
    if matches:
        summary.matched += 1
    if any(m.get("by") == "vpdq" for m in matches):
        summary.videos_matched += 1
    for bank in sorted({m["bank"] for m in matches}):
        summary.by_bank[bank] += 1
    for category in sorted({m["category"] for m in matches}):
        summary.by_category[category] += 1


def write_outputs(results: Path, records: Iterable[Record]) -> Summary:
    """Write every output from ``records`` (in key order, each key once), streaming.

    Each file is written under a temporary name and renamed once all are complete, so
    a merge that is stopped leaves the outputs of the last complete one (or none)."""
    outputs = ("results.jsonl", "results.csv", "results.parquet", "summary.html")
    staged = {name: results / (name + ".tmp") for name in outputs}
    summary = Summary()
    with ExitStack() as stack:
        jsonl = stack.enter_context(staged["results.jsonl"].open("wb"))
        table = stack.enter_context(staged["results.csv"].open("w", encoding="utf-8", newline=""))
        parquet = _ParquetRows(staged["results.parquet"])
        stack.callback(parquet.close)

        def rows() -> Iterator[list[Cell]]:
            for record in records:
                jsonl.write(json.dumps(record, ensure_ascii=False, sort_keys=True).encode())
                jsonl.write(b"\n")
                count(summary, record)
                cells = row(record)
                parquet.add(cells)
                yield cells

        write_csv_for_people(table, COLUMNS, rows())
    staged["summary.html"].write_text(render_summary(summary), encoding="utf-8")
    for name, temporary in staged.items():
        if temporary.exists():
            os.replace(temporary, results / name)
    return summary


class _ParquetRows:
    """Rows to a Parquet file in row groups (nothing when pyarrow is not installed)."""

    def __init__(self, target: Path) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            self._writer: Any = None
            return
        self._pa = pa
        self._schema = pa.schema(
            [(name, pa.int64() if name in _NUMBERS else pa.string()) for name in COLUMNS]
        )
        self._writer = pq.ParquetWriter(target, self._schema)
        self._rows: list[list[Cell]] = []

    def add(self, cells: list[Cell]) -> None:
        if self._writer is None:
            return
        self._rows.append(cells)
        if len(self._rows) >= PARQUET_ROWS:
            self._flush()

    def _flush(self) -> None:
        columns = list(zip(*self._rows, strict=True)) if self._rows else [()] * len(COLUMNS)
        self._writer.write_table(
            self._pa.Table.from_arrays(
                [
                    self._pa.array(list(values), type=self._schema.field(i).type)
                    for i, values in enumerate(columns)
                ],
                schema=self._schema,
            )
        )
        self._rows = []

    def close(self) -> None:
        if self._writer is None:
            return
        if self._rows:
            self._flush()
        self._writer.close()


_SUMMARY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reclaim scan summary</title>
<style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto}
table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.25rem .5rem;text-align:left}</style>
</head><body>
<h1>Reclaim scan summary</h1>
<table>
<tr><th>Files</th><td>{{ s.files }}</td></tr>
<tr><th>Hashed</th><td>{{ s.hashed }}</td></tr>
<tr><th>Matched a bank</th><td>{{ s.matched }}</td></tr>
<tr><th>Videos matching a banked video (vPDQ)</th><td>{{ s.videos_matched }}</td></tr>
<tr><th>Archives opened</th><td>{{ s.archives }}</td></tr>
<tr><th>Errors</th><td>{{ s.errors.values() | sum }}</td></tr>
</table>
<h2>Matches per bank</h2>
{% if s.by_bank %}<table><tr><th>Bank</th><th>Files</th></tr>
{% for name, count in s.by_bank | dictsort %}<tr><td>{{ name }}</td><td>{{ count }}</td></tr>
{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
<h2>Matches per category</h2>
{% if s.by_category %}<table><tr><th>Category</th><th>Files</th></tr>
{% for name, count in s.by_category | dictsort %}<tr><td>{{ name }}</td><td>{{ count }}</td></tr>
{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
<h2>Errors by kind</h2>
{% if s.errors %}<table><tr><th>Kind</th><th>Count</th></tr>
{% for name, count in s.errors | dictsort %}<tr><td>{{ name }}</td><td>{{ count }}</td></tr>
{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
<p>Matched content is never copied: results.jsonl, results.csv and results.parquet hold
hashes and locations only.</p>
</body></html>
"""


def render_summary(summary: Summary) -> str:
    environment = Environment(autoescape=True)
    return environment.from_string(_SUMMARY).render(s=summary)


__all__ = [
    "COLUMNS",
    "PARQUET_ROWS",
    "Summary",
    "count",
    "render_summary",
    "row",
    "summarise",
    "write_outputs",
]
