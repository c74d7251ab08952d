"""Synthetic files for the hashing tests, built in memory from the public test media.

Hostile files (decompression bombs, truncations) are written byte by byte here rather
than stored, so that what each one claims is visible in the test that uses it.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from tests.support.testdata import PDQ_IMAGES

BRIDGE = PDQ_IMAGES / "bridge-mods" / "aaa-orig.jpg"


@functools.cache
def small_bridge() -> Image.Image:
    """The bridge photo at 400 x 251: big enough for quality 100, quick to encode."""
    with Image.open(BRIDGE) as image:
        return image.convert("RGB").resize((400, 251), Image.Resampling.LANCZOS)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def encode_heic(image: Image.Image, quality: int = 90) -> bytes:
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(image).save(buffer, format="HEIF", quality=quality)
    return buffer.getvalue()


def pixels(image: Image.Image) -> npt.NDArray[np.uint8]:
    return np.asarray(image.convert("RGB"))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header for an 8-bit RGB canvas of ``width`` x ``height``.

    The image data is a few bytes of a real zlib stream, so the header parses
    (Pillow's ``Image.open`` succeeds) but decoding could only fail or exhaust memory.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
