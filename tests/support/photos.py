"""Synthetic photo-like JPEGs at any size, from a seed (no real pictures needed).

A photo's energy sits in smooth gradients and a few edges, with fine grain on top;
PDQ and JPEG's scaled decoding both depend on that mix, so random noise alone would
be a poor stand-in.  Each picture is a coarse random colour field upscaled smoothly,
a handful of shapes with hard edges, and sensor-like grain.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

#: Megapixel sizes of the benchmark's mix (0.3 to 24 MP), landscape 3:2 unless noted.
MEGAPIXELS = (0.3, 1.2, 2.0, 6.0, 12.0, 24.0)


def photo(seed: int, width: int, height: int) -> Image.Image:
    """An RGB picture of ``width`` x ``height`` that compresses and hashes like a photo."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(4, 9))):
        x0, x1 = sorted(rng.integers(0, width, size=2).tolist())
        y0, y1 = sorted(rng.integers(0, height, size=2).tolist())
        fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1 + 1, y1 + 1), fill=fill)
        else:
            draw.rectangle((x0, y0, x1 + 1, y1 + 1), fill=fill)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1.0, width / 800)))
    grain = Image.effect_noise((width, height), 12.0).convert("RGB")
    return Image.blend(image, grain, 0.08)


def photo_jpeg(seed: int, megapixels: float, quality: int = 88) -> bytes:
    """A JPEG of about ``megapixels`` million pixels, 3:2, portrait for odd seeds."""
    width = round((megapixels * 1e6 * 1.5) ** 0.5)
    height = round(width / 1.5)
    if seed % 2:
        width, height = height, width
    buffer = io.BytesIO()
    photo(seed, width, height).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


__all__ = ["MEGAPIXELS", "photo", "photo_jpeg"]
