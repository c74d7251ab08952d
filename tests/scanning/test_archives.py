"""Archives as streams: good members hashed, every hostile trick refused and named."""

from __future__ import annotations

from pathlib import Path

import pytest

from reclaim.scanning.archives import ArchiveError, read_members
from reclaim.scanning.domain import ArchiveLimits, ErrorKind
from tests.support.scanning import hostile_tar, hostile_zip, photos

LIMIT = 1024 * 1024


def by_name(path: Path, **limits: object) -> dict[str, tuple[ErrorKind | None, bytes | None]]:
    found = {}
    for member in read_members(path, ArchiveLimits(**limits), LIMIT):  # type: ignore[arg-type]
        found[member.name] = (member.error[0] if member.error else None, member.data)
    return found


def test_a_hostile_zip_yields_its_good_members_and_names_each_trick(tmp_path: Path) -> None:
    images = photos(2)
    path = tmp_path / "seized.zip"
    path.write_bytes(hostile_zip(images))

    found = by_name(path)

    assert found["good/0.jpg"] == (None, images[0])
    assert found["good/1.jpg"] == (None, images[1])
    assert found["../escape.jpg"][0] is ErrorKind.ARCHIVE
    assert found["/absolute.jpg"][0] is ErrorKind.ARCHIVE
    assert found["link.jpg"][0] is ErrorKind.ARCHIVE
    assert found["nested.zip"][0] is ErrorKind.NESTED_ARCHIVE
    # 4 MB of zeros: refused as a bomb, or as too large, but never read in full.
    assert found["bomb.bin"][0] in {ErrorKind.ARCHIVE, ErrorKind.TOO_LARGE}
    assert all(data is None for kind, data in found.values() if kind is not None)


def test_the_bomb_ratio_is_caught_below_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "seized.zip"
    path.write_bytes(hostile_zip(photos(1)))
    found = {m.name: m.error for m in read_members(path, ArchiveLimits(), 64 * 1024 * 1024)}
    assert found["bomb.bin"] is not None
    assert found["bomb.bin"][0] is ErrorKind.ARCHIVE
    assert "bomb" in found["bomb.bin"][1]


def test_a_hostile_tar_is_read_as_a_stream(tmp_path: Path) -> None:
    images = photos(2)
    path = tmp_path / "seized.tar.gz"
    path.write_bytes(hostile_tar(images))

    found = by_name(path)

    assert found["good/0.jpg"] == (None, images[0])
    assert found["good/1.jpg"] == (None, images[1])
    assert found["../../escape.jpg"][0] is ErrorKind.ARCHIVE
    assert found["link.jpg"][0] is ErrorKind.ARCHIVE
    assert found["dev-null"][0] is ErrorKind.ARCHIVE


def test_too_many_members_or_bytes_stop_the_archive(tmp_path: Path) -> None:
    path = tmp_path / "seized.zip"
    path.write_bytes(hostile_zip(photos(3)))
    with pytest.raises(ArchiveError, match="more than 2 members"):
        by_name(path, max_members=2)
    with pytest.raises(ArchiveError, match="inflates to more than"):
        by_name(path, max_total_bytes=10_000)


def test_finished_members_are_skipped_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "seized.tar.gz"
    path.write_bytes(hostile_tar(photos(2)))
    names = [m.name for m in read_members(path, ArchiveLimits(), LIMIT, frozenset({"good/0.jpg"}))]
    assert "good/0.jpg" not in names
    assert "good/1.jpg" in names


def test_a_damaged_archive_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(hostile_zip(photos(1))[:300])
    with pytest.raises(ArchiveError):
        by_name(path)
