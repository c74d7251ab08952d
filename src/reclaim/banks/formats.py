"""The three bank file formats: python-threatexchange's local_file, CSV and JSON lines.

- ``local_file``: one ``<signal_type> <value>`` per line, as python-threatexchange's
  ``LocalFileSignalExchangeAPI`` reads and writes it.  That format uses
  python-threatexchange's type names (``video_md5``, ``video_sha256``), so Reclaim
  writes those names and reads both them and its own (``md5``, ``sha256``).
- ``csv``: a header ``signal_type,value,quality,verified,added_at,category`` (reading
  accepts any of these columns after the first two).
- ``jsonl``: one object per line with the same fields.

A video's ``vpdq`` signal carries its frames: in ``local_file`` as python-threatexchange's
vPDQ signal string (a JSON list of ``"pdq_hex,quality,timestamp"``), in ``jsonl`` as
``frames``, Meta's vPDQ lines ``frame_number,quality,pdq_hex,timestamp`` (the value is
then the frame list's fingerprint, checked when given).  ``csv`` writes the
fingerprint only: such a line imports only where the frames are already stored.

``category`` says what a hash is of (``csam``, ``self_generated_minor``, ``adult_ncii``,
``sextortion``, ``unknown``); ``local_file`` has no room for it: the bank is the
category there.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TextIO

from reclaim.banks import videos
from reclaim.banks.banking import NewEntry
from reclaim.banks.contents import ExportRow
from reclaim.banks.domain import Category
from reclaim.domain.signals import InvalidSignalError, Signal, SignalType
from reclaim.matching.video import FrameList, InvalidFrameListError


class BankFormat(enum.StrEnum):
    LOCAL_FILE = "local_file"
    CSV = "csv"
    JSONL = "jsonl"


CSV_HEADER = ("signal_type", "value", "quality", "verified", "added_at", "category")

#: python-threatexchange's names for Reclaim's signal types, and back.
THREATEXCHANGE_NAMES = {
    SignalType.PDQ: "pdq",
    SignalType.MD5: "video_md5",
    SignalType.SHA256: "video_sha256",
    SignalType.VPDQ: "vpdq",
}
_TYPE_ALIASES = {name: kind for kind, name in THREATEXCHANGE_NAMES.items()}


def parse_signal_type(name: str) -> str:
    """Map python-threatexchange's type names onto Reclaim's."""
    name = name.strip().lower()
    kind = _TYPE_ALIASES.get(name)
    return kind.value if kind else name


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


ParsedLine = tuple[int, NewEntry | LineError]


@dataclass(frozen=True, slots=True)
class Defaults:
    """What an entry is when its line does not say."""

    verified: bool = False
    category: Category = Category.UNKNOWN


def read_entries(
    stream: TextIO, file_format: BankFormat, *, defaults: Defaults = Defaults()
) -> Iterator[ParsedLine]:
    """Yield (line number, entry or error) for every non-blank line of the file."""
    if file_format is BankFormat.LOCAL_FILE:
        yield from _read_local_file(stream, defaults)
    elif file_format is BankFormat.CSV:
        yield from _read_csv(stream, defaults)
    else:
        yield from _read_jsonl(stream, defaults)


def _read_local_file(stream: TextIO, defaults: Defaults) -> Iterator[ParsedLine]:
    for number, line in enumerate(stream, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        kind, _, value = text.partition(" ")
        if parse_signal_type(kind) == SignalType.VPDQ.value:
            parsed = _video_entry(
                partial(videos.from_threatexchange, value),
                None,
                None,
                defaults.verified,
                defaults.category,
            )
        else:
            parsed = _entry(kind, value.strip(), None, defaults.verified, defaults.category)
        yield number, LineError(number, parsed.message) if isinstance(parsed, LineError) else parsed


def _read_csv(stream: TextIO, defaults: Defaults) -> Iterator[ParsedLine]:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return
    columns = [c.strip().lower() for c in header]
    if columns[:2] != ["signal_type", "value"] or not set(columns) <= set(CSV_HEADER):
        yield 1, LineError(1, f"the header must be {','.join(CSV_HEADER)}; got {','.join(header)}")
        return
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            yield number, LineError(number, f"expected {len(columns)} fields, got {len(row)}")
            continue
        record = dict(zip(columns, row, strict=True))
        yield number, _from_record(number, record, defaults)


def _read_jsonl(stream: TextIO, defaults: Defaults) -> Iterator[ParsedLine]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, LineError(number, f"not JSON: {exc.msg}")
            continue
        if not isinstance(record, dict):
            yield number, LineError(number, "each line must be a JSON object")
            continue
        yield number, _from_record(number, record, defaults)


def _from_record(number: int, record: dict[str, Any], defaults: Defaults) -> NewEntry | LineError:
    quality = record.get("quality")
    verified = record.get("verified")
    category = record.get("category")
    try:
        quality_value = _quality(quality)
        verified_value = defaults.verified if verified in (None, "") else _boolean(verified)
        category_value = defaults.category if category in (None, "") else _category(category)
    except ValueError as exc:
        return LineError(number, str(exc))
    frames = record.get("frames")
    if frames is not None and parse_signal_type(str(record.get("signal_type", ""))) == "vpdq":
        if not isinstance(frames, list) or not all(isinstance(f, str) for f in frames):
            return LineError(number, "frames must be a list of vPDQ lines")
        value = record.get("value")
        result = _video_entry(
            partial(videos.from_lines, frames),
            None if value in (None, "") else str(value),
            quality_value,
            verified_value,
            category_value,
        )
        return LineError(number, result.message) if isinstance(result, LineError) else result
    result = _entry(
        str(record.get("signal_type", "")),
        str(record.get("value", "")),
        quality_value,
        verified_value,
        category_value,
    )
    if isinstance(result, LineError):
        return LineError(number, result.message)
    return result


def _entry(
    kind: str, value: str, quality: int | None, verified: bool, category: Category
) -> NewEntry | LineError:
    try:
        signal = Signal.parse(parse_signal_type(kind), value)
    except InvalidSignalError as exc:
        return LineError(0, str(exc))
    via = "the list it was imported from" if verified else None
    return NewEntry(signal, quality, verified, category=category, verified_via=via)


def _video_entry(
    read: Callable[[], FrameList],
    value: str | None,
    quality: int | None,
    verified: bool,
    category: Category,
) -> NewEntry | LineError:
    try:
        frames = read()
    except InvalidFrameListError as exc:
        return LineError(0, str(exc))
    signal = videos.signal_of(frames)
    if value is not None and value.strip().lower() != signal.value:
        return LineError(0, "the vpdq value is not the fingerprint of its frames")
    via = "the list it was imported from" if verified else None
    best = videos.best_quality(frames) if quality is None else quality
    return NewEntry(signal, best, verified, category=category, verified_via=via, frames=frames)


def _category(value: object) -> Category:
    try:
        return Category(str(value).strip().lower())
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise ValueError(f"category must be one of {known}; got {value!r}") from None


def _quality(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        quality = int(str(value))
    except ValueError:
        raise ValueError(f"quality must be a whole number 0–100, got {value!r}") from None
    if not 0 <= quality <= 100:
        raise ValueError(f"quality must be 0–100, got {quality}")
    return quality


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ValueError(f"verified must be true or false, got {value!r}")


# --- writing -----------------------------------------------------------------------


def write_entries(rows: Iterable[ExportRow], file_format: BankFormat) -> Iterator[str]:
    """Yield the file's text in pieces (for streaming to a file or an HTTP response)."""
    if file_format is BankFormat.LOCAL_FILE:
        for row in rows:
            value = videos.to_threatexchange(row.frames) if row.frames else row.signal.value
            yield f"{THREATEXCHANGE_NAMES[row.signal.type]} {value}\n"
    elif file_format is BankFormat.CSV:
        yield ",".join(CSV_HEADER) + "\r\n"
        for row in rows:
            buffer = io.StringIO()
            csv.writer(buffer).writerow(
                [
                    row.signal.type.value,
                    row.signal.value,
                    "" if row.quality is None else row.quality,
                    "true" if row.verified else "false",
                    _iso(row.added_at),
                    row.category.value,
                ]
            )
            yield buffer.getvalue()
    else:
        for row in rows:
            record: dict[str, Any] = {
                "signal_type": row.signal.type.value,
                "value": row.signal.value,
                "quality": row.quality,
                "verified": row.verified,
                "added_at": _iso(row.added_at),
                "category": row.category.value,
            }
            if row.frames is not None:
                record["frames"] = videos.to_lines(row.frames)
            yield json.dumps(record, separators=(",", ":")) + "\n"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
