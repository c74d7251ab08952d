"""Where the shared public test media live, and readers for their reference lists.

The media sit beside the repository (``../shared/testdata``).  Without them the
hashing tests cannot say anything, so importing this module fails loudly instead of
letting tests skip.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from reclaim.hashing import VpdqFeature, parse_vpdq_lines

TESTDATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata").resolve()
THREATEXCHANGE = TESTDATA / "threatexchange"
PDQ_IMAGES = THREATEXCHANGE / "pdq"
VIDEOS = THREATEXCHANGE / "video"

if not (PDQ_IMAGES / "reference.tsv").is_file() or not VIDEOS.is_dir():
    raise RuntimeError(
        f"the shared test media are missing from {THREATEXCHANGE}; the hashing tests "
        "need them (shared/ must sit beside the repository)"
    )

#: The sample videos, by stem; each has ``<stem>.mp4`` and ``<stem>.vpdq.txt``.
VIDEO_STEMS = tuple(sorted(path.stem for path in VIDEOS.glob("*.mp4")))


@dataclass(frozen=True)
class PdqReference:
    """One row of ``pdq/reference.tsv`` (see the README beside it)."""

    path: str
    pdq: str
    quality: int
    md5: str
    sha256: str
    pdq_rgb: str
    quality_rgb: int

    @property
    def threatexchange_differs(self) -> bool:
        return (self.pdq, self.quality) != (self.pdq_rgb, self.quality_rgb)


def pdq_reference() -> list[PdqReference]:
    with (PDQ_IMAGES / "reference.tsv").open(newline="", encoding="utf-8") as file:
        return [
            PdqReference(
                path=row["path"],
                pdq=row["pdq"],
                quality=int(row["quality"]),
                md5=row["md5"],
                sha256=row["sha256"],
                pdq_rgb=row["pdq_rgb"],
                quality_rgb=int(row["quality_rgb"]),
            )
            for row in csv.DictReader(file, delimiter="\t")
        ]


def vpdq_reference(stem: str) -> list[VpdqFeature]:
    """Meta's vPDQ hash list for one sample video (every frame)."""
    with (VIDEOS / f"{stem}.vpdq.txt").open(encoding="utf-8") as file:
        return parse_vpdq_lines(file)
