"""Builders for the scanning tests: media folders, hostile archives, a brute-force twin."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from reclaim.domain.signals import Signal, SignalType, pdq_distance
from reclaim.hashing import HashingLimits, HashRequest, ImageHashes, hash_bytes
from reclaim.matching.video import FrameList, VideoRule, brute_force_video_matches
from reclaim.scanning.snapshot import Entry
from tests.support.photos import photo_jpeg

DEFAULT_RULE = VideoRule()
#: A member of this size, of zeros, deflates about a thousand times: a small bomb.
BOMB_BYTES = 4 * 1024 * 1024


def photos(count: int, first_seed: int = 100, megapixels: float = 0.05) -> list[bytes]:
    """``count`` small synthetic photos (distinct seeds, so distinct hashes)."""
    return [photo_jpeg(first_seed + i, megapixels) for i in range(count)]


def write_folder(folder: Path, images: Iterable[bytes]) -> list[Path]:
    """The images as files in ``folder`` (one in a subfolder, one text file beside)."""
    written = []
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    for number, data in enumerate(images):
        path = folder / ("sub" if number % 3 == 0 else "") / f"photo-{number:03}.jpg"
        path.write_bytes(data)
        written.append(path)
    (folder / "notes.txt").write_text("not a picture\n")
    return written


def hostile_zip(images: list[bytes]) -> bytes:
    """A zip with good images and every trick the scanner must refuse."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, data in enumerate(images):
            archive.writestr(f"good/{number}.jpg", data)
        archive.writestr("../escape.jpg", images[0])
        archive.writestr("/absolute.jpg", images[0])
        archive.writestr("bomb.bin", b"\x00" * BOMB_BYTES)
        nested = io.BytesIO()
        with zipfile.ZipFile(nested, "w") as inner:
            inner.writestr("inner.jpg", images[0])
        archive.writestr("nested.zip", nested.getvalue())
        link = zipfile.ZipInfo("link.jpg")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def hostile_tar(images: list[bytes]) -> bytes:
    """A gzipped tar with good images, a symbolic link, a device and a path trick."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for number, data in enumerate(images):
            info = tarfile.TarInfo(f"good/{number}.jpg")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        escape = tarfile.TarInfo("../../escape.jpg")
        escape.size = len(images[0])
        archive.addfile(escape, io.BytesIO(images[0]))
        link = tarfile.TarInfo("link.jpg")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/shadow"
        archive.addfile(link)
        device = tarfile.TarInfo("dev-null")
        device.type = tarfile.CHRTYPE
        archive.addfile(device)
    return buffer.getvalue()


def entries_for(images: list[bytes], bank: str = "csam-verified", first_id: int = 1) -> list[Entry]:
    """Bank entries for the images' fast PDQ (a few bits off) and MD5."""
    entries = []
    for number, data in enumerate(images):
        hashed = hash_bytes(data, HashingLimits(), request=HashRequest())
        assert isinstance(hashed, ImageHashes)
        value = _flip(hashed.pdq.value, 5)
        entries.append(
            Entry(first_id + 2 * number, bank, "csam", True, Signal(SignalType.PDQ, value))
        )
        entries.append(
            Entry(first_id + 2 * number + 1, bank, "csam", True, Signal(SignalType.MD5, hashed.md5))
        )
    return entries


def brute_force(
    record_hashes: tuple[str | None, str | None],
    entries: list[Entry],
    max_distance: int,
    frames: FrameList | None = None,
    rule: VideoRule = DEFAULT_RULE,
) -> set[int]:
    """The twin: entry ids a file matches, by looking at every entry.

    A picture's PDQ against every PDQ entry; a video's ``frames`` against every banked
    video, frame by frame (vPDQ's rule, :func:`brute_force_video_matches`), and never
    against single PDQ entries; MD5 exactly for both."""
    pdq, md5 = record_hashes
    found = set()
    for entry in entries:
        if entry.signal.type is SignalType.PDQ and pdq is not None:
            if pdq_distance(pdq, entry.signal.value) <= max_distance:
                found.add(entry.id)
        elif entry.signal.type is SignalType.MD5 and entry.signal.value == md5:
            found.add(entry.id)
    if frames is not None:
        banked = {e.id: e.frames for e in entries if e.frames is not None}
        found.update(
            h.entry_id for h in brute_force_video_matches(frames, banked, rule) if h.is_match
        )
    return found


def _flip(value: str, bits: int) -> str:
    number = int(value, 16)
    for bit in range(bits):
        number ^= 1 << (bit * 37 % 256)
    return f"{number:064x}"
