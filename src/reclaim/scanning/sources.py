"""A scan's sources, enumerated into units: folders, archives, URL lists, single files.

The client enumerates; workers read.  Folders are walked recursively in sorted order
(hidden files and symbolic links skipped; every other regular file is a unit, whatever
its name: the hasher decides by content).  A file starting like a zip or tar archive is
an archive unit; a text file whose lines are http(s) URLs (blank lines and ``#``
comments allowed) is a URL list, each URL a unit fetched by a worker through the safe
fetcher; anything else is a file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from reclaim.scanning.archives import archive_kind
from reclaim.scanning.domain import Unit, UnitKind

#: A URL list larger than this is not a URL list (and would not be read into memory).
MAX_URL_LIST_BYTES = 64 * 1024 * 1024


class SourceError(ValueError):
    """A source that does not exist or cannot be read."""


def enumerate_units(sources: Sequence[Path]) -> list[Unit]:
    """Every unit of every source, each key once, in a stable order."""
    units: dict[str, Unit] = {}
    for source in sources:
        for unit in _units_of(source):
            units.setdefault(unit.key, unit)
    return list(units.values())


def _units_of(source: Path) -> Iterator[Unit]:
    try:
        mode = source.lstat().st_mode
    except OSError as exc:
        raise SourceError(f"{source}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(mode):
        yield from _folder(source.resolve())
    elif stat.S_ISREG(mode):
        urls = _url_list(source)
        if urls is not None:
            yield from (Unit(UnitKind.URL, url) for url in urls)
        else:
            yield _file_unit(source.resolve())
    else:
        raise SourceError(f"{source}: not a folder or a regular file")


def _folder(root: Path) -> Iterator[Unit]:
    found: list[Path] = []
    for folder, subfolders, names in os.walk(root):  # symlinked folders are not followed
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in names:
            path = Path(folder, name)
            if name.startswith(".") or not path.is_file() or path.is_symlink():
                continue
            found.append(path)
    for path in sorted(found, key=lambda p: p.relative_to(root).parts):
        yield _file_unit(path)


def _file_unit(path: Path) -> Unit:
    try:
        with path.open("rb") as file:
            head = file.read(512)
    except OSError:
        head = b""  # the worker reports why it cannot be read
    kind = UnitKind.ARCHIVE if archive_kind(head) else UnitKind.FILE
    return Unit(kind, str(path))


def _url_list(path: Path) -> list[str] | None:
    """The URLs listed in ``path``, or None if it is not a URL list."""
    try:
        if path.stat().st_size > MAX_URL_LIST_BYTES:
            return None
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    urls = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.lower().startswith(("http://", "https://")):
            return None
        urls.append(line)
    return urls or None


__all__ = ["MAX_URL_LIST_BYTES", "SourceError", "enumerate_units"]
