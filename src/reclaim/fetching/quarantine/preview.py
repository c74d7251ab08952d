"""Blurred greyscale previews, so analysts see as little as possible by default.

A preview is small (at most 256 pixels on its longest side), greyscale and blurred
heavily enough that it shows layout, not detail; the full image is a separate,
audited reveal.  Callers store the preview in the quarantine like any other object.
The input is hostile: the pixel count is checked before any pixels are decoded.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageFilter, ImageOps

MAX_SIDE = 256
#: Blur radius as a fraction of the preview's longest side: ~1/20 keeps shapes only.
BLUR_FRACTION = 0.05
DEFAULT_MAX_PIXELS = 50_000_000


class PreviewError(ValueError):
    """The bytes are not an image Reclaim can (or will) decode for a preview."""


def make_preview(
    data: bytes,
    *,
    max_side: int = MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    quality: int = 70,
) -> bytes:
    """Return a JPEG of ``data``: downscaled to ``max_side``, greyscale, blurred."""
    grey = _decode_greyscale(data, max_side, max_pixels)
    grey.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    radius = max(2.0, BLUR_FRACTION * max(grey.size))
    blurred = grey.filter(ImageFilter.GaussianBlur(radius))
    out = io.BytesIO()
    blurred.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _decode_greyscale(data: bytes, max_side: int, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # The pixel limit is enforced below, before decoding; Pillow's global
            # limit would only warn (or, with warnings as errors, fail confusingly).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise PreviewError(
                        f"image is {width}x{height} pixels, over the {max_pixels:,}-pixel limit"
                    )
                # draft() lets JPEG decode at a reduced scale: less memory and time.
                image.draft("L", (max_side, max_side))
                return ImageOps.exif_transpose(image).convert("L")
    except PreviewError:
        raise
    except Image.DecompressionBombError:
        # Pillow's own hard stop, for canvases far beyond any limit we would set.
        raise PreviewError(
            f"image dimensions are over the {max_pixels:,}-pixel limit (a decompression bomb?)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Truncated, corrupt or unsupported files all land here.
        raise PreviewError(f"not a decodable image: {exc}") from None
