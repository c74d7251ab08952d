"""A finished scan's outputs: JSON lines, CSV, Parquet (with pyarrow) and an HTML summary.

Written from the part files once every unit has a result, each key once, in key order.
Matched content is never copied: the outputs hold hashes, sizes, where a file was and
which bank entries it matched.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment

from reclaim.documents.spreadsheet import Cell, csv_for_people
from reclaim.scanning.parts import Record

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
        "yes" if matches else "no",
        ";".join(sorted({m["bank"] for m in matches})),
        ";".join(sorted({m["category"] for m in matches})),
        min((m["distance"] for m in matches), default=None),
        "yes" if any(m["verified"] for m in matches) else "no",
        error.get("kind"),
        error.get("message"),
    ]


def summarise(records: Iterable[Record]) -> Summary:
    summary = Summary()
    for record in records:
        if record.get("origin") == "archive":
            summary.archives += 1
            if record.get("error"):
                summary.errors[record["error"]["kind"]] += 1
            continue
        summary.files += 1
        if record.get("error"):
            summary.errors[record["error"]["kind"]] += 1
            continue
        summary.hashed += 1
        matches = record.get("matches") or []
        if matches:
            summary.matched += 1
        for bank in sorted({m["bank"] for m in matches}):
            summary.by_bank[bank] += 1
        for category in sorted({m["category"] for m in matches}):
            summary.by_category[category] += 1
    return summary


def write_outputs(results: Path, records: dict[str, Record]) -> Summary:
    """Write every output file (each under a temporary name, then renamed)."""
    ordered = [records[key] for key in sorted(records)]
    _write(
        results / "results.jsonl",
        "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in ordered).encode(),
    )
    _write(results / "results.csv", csv_for_people(COLUMNS, (row(r) for r in ordered)))
    _write_parquet(results / "results.parquet", ordered)
    summary = summarise(ordered)
    _write(results / "summary.html", render_summary(summary).encode())
    return summary


def _write_parquet(target: Path, ordered: list[Record]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for record in ordered:
        for name, value in zip(COLUMNS, row(record), strict=True):
            columns[name].append(value)
    temporary = target.with_name(target.name + ".tmp")
    pq.write_table(pa.table(columns), temporary)
    os.replace(temporary, target)


def _write(target: Path, data: bytes) -> None:
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


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


__all__ = ["COLUMNS", "Summary", "render_summary", "row", "summarise", "write_outputs"]
