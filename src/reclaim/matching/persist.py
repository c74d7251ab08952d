"""Saving a PdqIndex as a directory of .npy files, and opening it memory-mapped.

Loading maps the big arrays (hashes, tables, id directory) with ``mmap_mode="r"``, so
opening a 10-million-hash index takes milliseconds and pages come in as searches touch
them; several processes serving the same file share one copy in the page cache.  The
tombstones and the delta are small and mutable, so they are read into memory.

Every file is written under a temporary name and renamed into place, with the manifest
last: a reader never sees a half-written index, and an index that is memory-mapped from
the same directory keeps its old files (renaming does not disturb an open mapping).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from reclaim.matching.codec import PDQ_BYTES, HashArray, IdArray
from reclaim.matching.layout import Layout
from reclaim.matching.segments import MainSegment

FORMAT = "reclaim-pdq-index"
VERSION = 1
MANIFEST = "manifest.json"
_MAPPED = ("hashes", "ids", "sorted_ids", "order", "offsets", "positions")
_READ = ("live", "delta_ids", "delta_hashes")


def save(path: Path, main: MainSegment, delta_ids: IdArray, delta_hashes: HashArray) -> None:
    path.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "hashes": main.hashes,
        "ids": main.ids,
        "sorted_ids": main.sorted_ids,
        "order": main.order,
        "offsets": main.offsets,
        "positions": main.positions,
        "live": main.live,
        "delta_ids": delta_ids,
        "delta_hashes": delta_hashes,
    }
    for name, array in arrays.items():
        _write_npy(path / f"{name}.npy", array)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        # The bucket keys are read from native uint64 words; a big-endian machine would
        # cut different substrings out of the same bytes.
        "byteorder": sys.byteorder,
        "starts": list(main.layout.starts),
        "widths": list(main.layout.widths),
        "size": len(main),
    }
    temporary = path / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2))
    os.replace(temporary, path / MANIFEST)


def load(path: Path) -> tuple[MainSegment, IdArray, HashArray]:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} holds no saved PDQ index ({MANIFEST} is missing)") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(f"{path} is not a version-{VERSION} {FORMAT} directory")
    if manifest["byteorder"] != sys.byteorder:
        raise ValueError(f"{path} was saved on a {manifest['byteorder']}-endian machine")
    mapped = {name: np.load(path / f"{name}.npy", mmap_mode="r") for name in _MAPPED}
    read = {name: np.load(path / f"{name}.npy") for name in _READ}
    layout = Layout(tuple(manifest["starts"]), tuple(manifest["widths"]))
    size = int(manifest["size"])
    if mapped["hashes"].shape != (size, PDQ_BYTES) or read["live"].shape != (size,):
        raise ValueError(f"{path} is inconsistent: array shapes do not match the manifest")
    main = MainSegment(
        layout=layout,
        hashes=mapped["hashes"],
        ids=mapped["ids"],
        sorted_ids=mapped["sorted_ids"],
        order=mapped["order"],
        offsets=mapped["offsets"],
        positions=mapped["positions"],
        live=read["live"],
    )
    return main, read["delta_ids"], read["delta_hashes"]


def _write_npy(target: Path, array: npt.NDArray[np.generic]) -> None:
    temporary = target.with_name(target.name + ".tmp")
    with temporary.open("wb") as file:
        np.save(file, np.ascontiguousarray(array), allow_pickle=False)
    os.replace(temporary, target)
