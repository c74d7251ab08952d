"""Blurred greyscale previews."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageDraw

from reclaim.fetching.quarantine import PreviewError, make_preview


def photo(size: tuple[int, int], image_format: str = "PNG") -> bytes:
    image = Image.new("RGB", size, (250, 240, 10))
    draw = ImageDraw.Draw(image)
    # Sharp stripes wide enough to survive downscaling: detail the blur must remove.
    for x in range(0, size[0], 60):
        draw.rectangle([(x, 0), (x + 29, size[1])], fill=(10, 20, 60))
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "WEBP"])
def test_preview_is_small_greyscale_and_blurred(image_format: str) -> None:
    original = photo((1200, 800), image_format)
    preview = make_preview(original)
    with Image.open(io.BytesIO(preview)) as image:
        assert image.format == "JPEG"
        assert image.mode == "L"
        assert max(image.size) <= 256
        assert image.size[0] > image.size[1]  # aspect ratio kept
        width, height = image.size
        # The stripes alternate dark and light; blurred, a row's range collapses.
        row = image.crop((20, height // 2, width - 20, height // 2 + 1)).tobytes()
    assert max(row) - min(row) < 40
    assert len(preview) < len(original)


def test_small_images_stay_small() -> None:
    with Image.open(io.BytesIO(make_preview(photo((40, 30))))) as image:
        assert image.size == (40, 30)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header announcing a huge canvas, with no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(10_000, 6_000), (100_000, 100_000)])
def test_decompression_bombs_are_refused_before_decoding(size: tuple[int, int]) -> None:
    # The file is a few dozen bytes; decoding it would need gigabytes.
    with pytest.raises(PreviewError, match="over the 50,000,000-pixel limit"):
        make_preview(png_claiming(*size))


@pytest.mark.parametrize("data", [b"", b"not an image", photo((300, 200))[:200]])
def test_undecodable_input_is_a_preview_error(data: bytes) -> None:
    with pytest.raises(PreviewError, match="not a decodable image"):
        make_preview(data)
