"""Every supported format, recognised by content and hashed as the same picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from reclaim.domain.signals import pdq_distance
from reclaim.hashing import (
    HashingLimits,
    ImageHashes,
    MediaKind,
    UnsupportedFormatError,
    hash_bytes,
    hash_image_bytes,
    sniff,
)
from reclaim.hashing.pdq import pdq_of_pixels
from tests.support.media import encode, encode_heic, pixels, small_bridge

# Lossy re-encoding moves a few bits; PDQ's own tolerance for a faithful port is 10.
LOSSY_TOLERANCE = 10


def picture_pdq() -> str:
    return pdq_of_pixels(pixels(small_bridge())).value


def image_hashes(data: bytes, limits: HashingLimits) -> ImageHashes:
    result = hash_bytes(data, limits)
    assert isinstance(result, ImageHashes)
    return result


@pytest.mark.parametrize(
    ("fmt", "options", "name"),
    [
        ("PNG", {}, "PNG"),
        ("BMP", {}, "BMP"),
        ("TIFF", {}, "TIFF"),
        ("TIFF", {"compression": "tiff_lzw"}, "TIFF"),
        ("WEBP", {"lossless": True}, "WebP"),
    ],
)
def test_lossless_formats_hash_exactly_as_the_pixels(
    fmt: str, options: dict[str, object], name: str, limits: HashingLimits
) -> None:
    result = image_hashes(encode(small_bridge(), fmt, **options), limits)

    assert (result.format, result.width, result.height) == (name, 400, 251)
    assert result.pdq.value == picture_pdq()
    assert result.pdq.quality == 100


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("JPEG", "JPEG"), ("WEBP", "WebP"), ("GIF", "GIF"), ("AVIF", "AVIF"), ("HEIC", "HEIF")],
)
def test_lossy_formats_hash_close_to_the_pixels(fmt: str, name: str, limits: HashingLimits) -> None:
    data = encode_heic(small_bridge()) if fmt == "HEIC" else encode(small_bridge(), fmt)

    result = image_hashes(data, limits)
    assert result.format == name
    assert pdq_distance(result.pdq.value, picture_pdq()) <= LOSSY_TOLERANCE


@pytest.mark.parametrize(
    ("head", "kind", "name"),
    [
        (b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1heicmiaf", MediaKind.IMAGE, "HEIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", MediaKind.IMAGE, "HEIF"),
        (b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miafMA1B", MediaKind.IMAGE, "AVIF"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", MediaKind.IMAGE, "AVIF"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", MediaKind.VIDEO, "MP4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", MediaKind.VIDEO, "QuickTime"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x02\x003gp4", MediaKind.VIDEO, "3GP"),
        (b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat", MediaKind.VIDEO, "QuickTime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", MediaKind.VIDEO, "WebM"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", MediaKind.VIDEO, "Matroska"),
        (b"RIFF\x00\x10\x00\x00AVI LIST", MediaKind.VIDEO, "AVI"),
        (b"RIFF\x00\x10\x00\x00WEBPVP8 ", MediaKind.IMAGE, "WebP"),
    ],
)
def test_containers_are_told_apart_by_their_brands(head: bytes, kind: MediaKind, name: str) -> None:
    media = sniff(head)
    assert (media.kind, media.name) == (kind, name)


def test_bmp_needs_more_than_two_letters() -> None:
    with pytest.raises(UnsupportedFormatError, match="the content is text"):
        sniff(b"BMW and Audi are car makers, not image formats.")


def test_sixteen_bit_greys_are_scaled_not_clipped(limits: HashingLimits) -> None:
    # Pillow clips 16-bit samples at 255 when converting; a 16-bit grey picture would
    # hash as nearly white.  Scaled, it hashes exactly as its 8-bit original.
    grey = np.asarray(small_bridge().convert("L"))
    sixteen_bit = Image.fromarray(grey.astype(np.uint16) * 257)
    assert sixteen_bit.mode == "I;16"

    result = image_hashes(encode(sixteen_bit, "PNG"), limits)
    assert result.pdq == image_hashes(encode(Image.fromarray(grey), "PNG"), limits).pdq
    # python-threatexchange cannot hash 16-bit samples at all, so there is nothing to
    # keep for compatibility.
    assert result.pdq_threatexchange is None


def test_palette_transparency_converts_without_warnings(limits: HashingLimits) -> None:
    # Pillow warns when such a palette goes straight to RGB; pytest makes warnings
    # errors, so this also proves the conversion avoids the warning.
    palette = small_bridge().quantize(64)
    palette.info["transparency"] = bytes([0] * 8 + [255] * 56)
    data = encode(palette, "PNG")

    result = image_hashes(data, limits)
    with Image.open(io.BytesIO(data)) as reopened:
        assert isinstance(reopened.info["transparency"], bytes)
        colours = np.asarray(reopened.convert("RGBA"))[..., :3]
    assert result.pdq == pdq_of_pixels(np.ascontiguousarray(colours))
    assert result.pdq_threatexchange is not None  # palette indices hash differently


def test_exif_orientation_is_not_applied(limits: HashingLimits) -> None:
    # Hashes are of the pixels as stored, as python-threatexchange computes them.
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    rotated_on_display = encode(small_bridge(), "PNG", exif=exif)

    result = image_hashes(rotated_on_display, limits)
    assert result.pdq.value == picture_pdq()
    assert result.md5 != image_hashes(encode(small_bridge(), "PNG"), limits).md5


def test_hash_image_bytes_takes_images(limits: HashingLimits) -> None:
    assert hash_image_bytes(encode(small_bridge(), "PNG"), limits).pdq.value == picture_pdq()
