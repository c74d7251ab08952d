"""CSV for people who open it in a spreadsheet program.

Two things make a CSV safe to hand to an authority:

- **A UTF-8 byte-order mark.**  Excel on Windows in Taiwan reads a CSV without one as
  Big5 (cp950) and shows Chinese as mojibake; with ``EF BB BF`` first it reads UTF-8.
  LibreOffice and Numbers accept the mark too.
- **No formulas.**  A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is run as a formula by spreadsheet programs ("CSV injection"); text
  from outside (a reported URL, a platform's name, a platform's reply) could start that
  way.  Such text gets a leading apostrophe, which spreadsheet programs show as text.
  Numbers stay numbers.

Exports for machines (the audit trail's CSV) are another matter: no mark, no changes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import IO

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def formula_safe(text: str) -> str:
    """``text``, with a leading apostrophe when a spreadsheet would run it."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_for_people(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The table as UTF-8 CSV with a byte-order mark and no formulas."""
    out = io.StringIO()
    write_csv_for_people(out, header, rows)
    return out.getvalue().encode("utf-8")


def write_csv_for_people(
    out: IO[str], header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> None:
    """:func:`csv_for_people` written row by row to a text file (opened as UTF-8 with
    ``newline=""``), for tables too big to hold."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([formula_safe(name) for name in header])
    for row in rows:
        writer.writerow([_cell(cell) for cell in row])


def _cell(cell: Cell) -> str | int | float:
    if cell is None:
        return ""
    return formula_safe(cell) if isinstance(cell, str) else cell
