"""Broken and hostile input: each is refused with a typed error a person understands.

Nothing here may crash with an untyped exception, allocate what a header claims, or
hang (each test finishes in well under a second).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.hashing import (
    CorruptFileError,
    EmptyFileError,
    FileTooLargeError,
    HashingError,
    HashingLimits,
    HashingTimeoutError,
    ImageHashes,
    ImageTooLargeError,
    UnreadableFileError,
    UnsupportedFormatError,
    VideoTooLongError,
    hash_bytes,
    hash_file,
    hash_image_bytes,
)
from tests.support.media import encode, png_claiming, small_bridge
from tests.support.testdata import VIDEOS

CHAIR = VIDEOS / "chair-orig-22-sd-bar.mp4"
PATTERN = VIDEOS / "pattern-sd-grey-bar.mp4"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_zero_byte_file_is_empty(tmp_path: Path, limits: HashingLimits) -> None:
    with pytest.raises(EmptyFileError, match="empty"):
        hash_file(write(tmp_path, "empty.jpg", b""), limits)
    with pytest.raises(EmptyFileError):
        hash_bytes(b"", limits)


def test_a_truncated_jpeg_is_corrupt(tmp_path: Path, limits: HashingLimits) -> None:
    jpeg = encode(small_bridge(), "JPEG", quality=90)
    path = write(tmp_path, "cut.jpg", jpeg[: len(jpeg) // 2])

    with pytest.raises(CorruptFileError, match="JPEG image is damaged or truncated"):
        hash_file(path, limits)


def test_a_decompression_bomb_is_refused_without_decoding(
    tmp_path: Path, limits: HashingLimits
) -> None:
    # 100,000 x 100,000 RGB would be 30 GB; the file is under 100 bytes.
    path = write(tmp_path, "bomb.png", png_claiming(100_000, 100_000))
    started = time.monotonic()

    with pytest.raises(ImageTooLargeError, match="decompression bomb"):
        hash_file(path, limits)
    assert time.monotonic() - started < 1


def test_the_pixel_limit_is_checked_before_the_pixels_are_read(limits: HashingLimits) -> None:
    # 9000 x 9000 is under Pillow's own (global, warning-only) threshold but over
    # Reclaim's 50 megapixels.  The pixel data is garbage: had the image been decoded,
    # the error would be CorruptFileError, not ImageTooLargeError.
    with pytest.raises(ImageTooLargeError, match="9,000 x 9,000 pixels") as raised:
        hash_bytes(png_claiming(9000, 9000), limits)
    assert "the limit is 50,000,000 pixels" in str(raised.value)


def test_the_pixel_limit_is_per_call(limits: HashingLimits) -> None:
    png = encode(small_bridge(), "PNG")  # 400 x 251 = 100,400 pixels

    with pytest.raises(ImageTooLargeError, match="the limit is 100,000 pixels"):
        hash_bytes(png, HashingLimits(max_image_pixels=100_000))
    assert isinstance(hash_bytes(png, limits), ImageHashes)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # A sparse file: 100 GB on paper, nothing on disk.  Reading it would take minutes.
    path = tmp_path / "huge.mp4"
    with path.open("wb") as file:
        file.truncate(100 * 1024**3)
    started = time.monotonic()

    with pytest.raises(FileTooLargeError, match=r"the file is 100\.0 GB; the limit is 2\.0 GB"):
        hash_file(path, HashingLimits())
    assert time.monotonic() - started < 1


def test_each_kind_has_its_own_byte_limit(tmp_path: Path) -> None:
    jpeg = encode(small_bridge(), "JPEG")
    limits = HashingLimits(max_file_bytes=1000)

    with pytest.raises(FileTooLargeError, match="the limit for images is 1,000 bytes"):
        hash_file(write(tmp_path, "photo.jpg", jpeg), limits)
    with pytest.raises(FileTooLargeError, match="the limit for images"):
        hash_bytes(jpeg, limits)
    with pytest.raises(FileTooLargeError, match=r"MP4 file is 991\.9 KB; the limit for videos"):
        hash_file(PATTERN, HashingLimits(max_video_bytes=500_000))


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("notes.jpg", b"These are my notes, not a photo.\n" * 20, "the content is text"),
        ("scan.jpg", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "a PDF document"),
        ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        ("blob.mp4", bytes(range(256)) * 8, "a format Reclaim does not recognise"),
        ("song.mp4", b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom", "audio file"),
    ],
)
def test_content_that_is_not_media_is_unsupported_whatever_its_name(
    tmp_path: Path, limits: HashingLimits, name: str, data: bytes, says: str
) -> None:
    with pytest.raises(UnsupportedFormatError, match=says) as raised:
        hash_file(write(tmp_path, name, data), limits)
    assert str(raised.value).startswith("not an image or video Reclaim can hash")


def test_the_content_decides_the_format_not_the_name(tmp_path: Path, limits: HashingLimits) -> None:
    result = hash_file(write(tmp_path, "really-a-png.mp4", encode(small_bridge(), "PNG")), limits)
    assert isinstance(result, ImageHashes)
    assert result.format == "PNG"


def test_a_corrupt_video_is_corrupt(tmp_path: Path, limits: HashingLimits) -> None:
    garbage = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + os.urandom(4096)

    with pytest.raises(CorruptFileError, match="MP4 video could not be opened"):
        hash_file(write(tmp_path, "garbage.mp4", garbage), limits)


def test_a_truncated_video_is_corrupt(tmp_path: Path, limits: HashingLimits) -> None:
    data = PATTERN.read_bytes()
    path = write(tmp_path, "cut.mp4", data[: len(data) // 2])

    with pytest.raises(CorruptFileError, match="damaged or truncated: decoding failed after"):
        hash_file(path, limits)


def test_a_video_in_an_unknown_codec_is_unsupported(limits: HashingLimits) -> None:
    data = PATTERN.read_bytes()
    codec = data.index(b"avc1", 32)  # the sample description, after the ftyp brands
    renamed = data[:codec] + b"zzzz" + data[codec + 4 :]

    with pytest.raises(UnsupportedFormatError, match="uses a codec Reclaim cannot decode"):
        hash_bytes(renamed, limits)


def test_video_limits_bound_the_work(limits: HashingLimits) -> None:
    with pytest.raises(VideoTooLongError, match=r"lasts 22\.5 s; the limit is 10\.0 s"):
        hash_file(CHAIR, HashingLimits(max_video_seconds=10))
    with pytest.raises(VideoTooLongError, match="about 23 frames hashed; the limit is 10"):
        hash_file(CHAIR, HashingLimits(max_video_frames=10))
    with pytest.raises(ImageTooLargeError, match="frames are 480 x 720 pixels"):
        hash_file(CHAIR, HashingLimits(max_image_pixels=100_000))


def test_a_video_that_takes_too_long_is_abandoned() -> None:
    with pytest.raises(HashingTimeoutError, match=r"took longer than 0\.001 seconds"):
        hash_file(PATTERN, HashingLimits(timeout_seconds=0.001))


def test_a_video_is_not_an_image(limits: HashingLimits) -> None:
    with pytest.raises(UnsupportedFormatError, match="expected an image, but this is a MP4 video"):
        hash_image_bytes(PATTERN.read_bytes(), limits)


def test_paths_that_are_not_files(tmp_path: Path, limits: HashingLimits) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        hash_file(tmp_path / "missing.jpg", limits)
    with pytest.raises(UnreadableFileError, match="it is a directory"):
        hash_file(tmp_path, limits)
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        hash_file(fifo, limits)


def test_a_path_through_a_file_is_unreadable(tmp_path: Path, limits: HashingLimits) -> None:
    parent = write(tmp_path, "photo.jpg", encode(small_bridge(), "JPEG"))

    with pytest.raises(UnreadableFileError, match="cannot read the file: Not a directory"):
        hash_file(parent / "inside.jpg", limits)


def test_a_one_pixel_image_hashes_with_quality_zero(limits: HashingLimits) -> None:
    result = hash_bytes(encode(small_bridge().resize((1, 1)), "PNG"), limits)
    assert isinstance(result, ImageHashes)
    assert result.pdq.quality == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_images_give_hashes_or_a_hashing_error(data: st.DataObject) -> None:
    """Truncate or overwrite bytes of valid small images: never an untyped failure."""
    original = data.draw(st.sampled_from(_SMALL_IMAGES))
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(0, 8))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    try:
        hash_bytes(bytes(damaged), HashingLimits())
    except HashingError as exc:
        message = str(exc)
    else:
        return
    assert message  # every refusal says why


def _small(fmt: str, **options: object) -> bytes:
    return encode(small_bridge().resize((48, 32)), fmt, **options)


_SMALL_IMAGES = [
    _small("JPEG"),
    _small("PNG"),
    _small("GIF"),
    _small("WEBP"),
    _small("BMP"),
    _small("TIFF"),
]
