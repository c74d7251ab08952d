"""Edited copies of a video made with PyAV, as an upload pipeline or an offender makes
them: re-encoded, trimmed, with a logo, resized (for the vPDQ tests)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import cast

import av
import av.video.stream
import numpy as np
import numpy.typing as npt

Pixels = npt.NDArray[np.uint8]


def variant(
    source: Path,
    *,
    skip_seconds: float = 0.0,
    size: tuple[int, int] | None = None,
    draw: Callable[[Pixels], Pixels] | None = None,
    codec: str = "libx264",
    crf: int = 30,
    max_seconds: float | None = None,
) -> bytes:
    """``source`` decoded and encoded again (H.264 by default, MP4), edited on the way."""
    out_buffer = io.BytesIO()
    with av.open(str(source)) as inp, av.open(out_buffer, mode="w", format="mp4") as out:
        stream_in = inp.streams.video[0]
        rate = stream_in.average_rate or 30
        width, height = size or (stream_in.codec_context.width, stream_in.codec_context.height)
        stream = cast(av.video.stream.VideoStream, out.add_stream(codec, rate=rate))
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": "veryfast"}
        for number, frame in enumerate(inp.decode(stream_in)):
            seconds = number / float(rate)
            if seconds < skip_seconds:
                continue
            if max_seconds is not None and seconds >= max_seconds:
                break
            pixels = cast(Pixels, frame.to_ndarray(format="rgb24"))
            if draw is not None:
                pixels = draw(pixels)
            edited = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            edited = edited.reformat(width=stream.width, height=stream.height, format="yuv420p")
            for packet in stream.encode(edited):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return out_buffer.getvalue()


def with_logo(pixels: Pixels) -> Pixels:
    """A half-transparent watermark in the bottom right corner (1/10 of the width)."""
    edited = pixels.astype(np.float32)
    height, width = edited.shape[:2]
    w, h = width // 10, height // 20
    box = edited[height - 8 - h : height - 8, width - 8 - w : width - 8]
    box[:] = 0.5 * box + 0.5 * np.array([250.0, 250.0, 250.0])
    return edited.astype(np.uint8)
