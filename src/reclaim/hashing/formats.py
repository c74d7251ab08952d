"""Which image or video format a file is, decided from its first bytes.

File names lie (a text file called ``photo.jpg``, a video renamed ``.png``), so the
hashers never look at them: the magic bytes pick the one decoder that may read the
file.  Naming the decoder explicitly also keeps hostile input away from the long tail
of formats Pillow and FFmpeg would otherwise probe (FFmpeg's playlist and concat
demuxers, for instance, open other files and URLs named inside the input).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from reclaim.hashing.errors import EmptyFileError, UnsupportedFormatError

#: How many leading bytes :func:`sniff` wants (an ISO media ``ftyp`` box lists its
#: compatible brands there; everything else needs far fewer).
HEAD_BYTES = 256


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class MediaFormat:
    """A recognised format: what it is, and which decoder reads it.

    ``decoder`` is a Pillow format id for images and an FFmpeg demuxer name for
    videos.
    """

    kind: MediaKind
    name: str
    decoder: str


JPEG = MediaFormat(MediaKind.IMAGE, "JPEG", "JPEG")
PNG = MediaFormat(MediaKind.IMAGE, "PNG", "PNG")
GIF = MediaFormat(MediaKind.IMAGE, "GIF", "GIF")
WEBP = MediaFormat(MediaKind.IMAGE, "WebP", "WEBP")
BMP = MediaFormat(MediaKind.IMAGE, "BMP", "BMP")
TIFF = MediaFormat(MediaKind.IMAGE, "TIFF", "TIFF")
HEIF = MediaFormat(MediaKind.IMAGE, "HEIF", "HEIF")
AVIF = MediaFormat(MediaKind.IMAGE, "AVIF", "AVIF")
MP4 = MediaFormat(MediaKind.VIDEO, "MP4", "mov")
QUICKTIME = MediaFormat(MediaKind.VIDEO, "QuickTime", "mov")
THREE_GP = MediaFormat(MediaKind.VIDEO, "3GP", "mov")
MATROSKA = MediaFormat(MediaKind.VIDEO, "Matroska", "matroska")
WEBM = MediaFormat(MediaKind.VIDEO, "WebM", "matroska")
AVI = MediaFormat(MediaKind.VIDEO, "AVI", "avi")

# ISO base media ("ftyp") brands.  HEIF and AVIF stills share the container with
# MP4 video, so the brand decides; "mif1"/"msf1" are generic HEIF brands that AVIF
# files also carry, hence the AVIF check comes first.
_AVIF_BRANDS = frozenset({b"avif", b"avis", b"avio"})
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_VIDEO_BRAND_PREFIXES = (b"iso", b"mp4", b"mp7", b"avc", b"M4V", b"qt  ", b"3g", b"mmp4")
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
# Top-level atoms that open a QuickTime file written without an "ftyp" box.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
# Sizes of the BMP info headers Pillow reads; "BM" alone is too weak a signature.
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


def sniff(head: bytes) -> MediaFormat:
    """The format of a file whose first :data:`HEAD_BYTES` bytes are ``head``.

    Raises :class:`UnsupportedFormatError`, saying what the bytes look like instead,
    when they are not an image or video format Reclaim decodes.
    """
    if not head:
        raise EmptyFileError("the file is empty (0 bytes)")
    found = _sniff_image(head) or _sniff_video(head)
    if found is None:
        raise UnsupportedFormatError(
            f"not an image or video Reclaim can hash: the content is {_describe(head)}"
        )
    return found


_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
)


def _sniff_image(head: bytes) -> MediaFormat | None:
    for signature, media in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return BMP
    return None


def _sniff_video(head: bytes) -> MediaFormat | None:
    if head[4:8] == b"ftyp":
        return _sniff_iso_media(head)
    if head[4:8] in _QUICKTIME_ATOMS and int.from_bytes(head[:4], "big") >= 8:
        return QUICKTIME
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM if b"webm" in head[:64] else MATROSKA
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return AVI
    return None


def _sniff_iso_media(head: bytes) -> MediaFormat:
    box_end = min(int.from_bytes(head[:4], "big"), len(head))
    major = head[8:12]
    # The minor version (bytes 12-16) is not a brand; compatible brands follow it.
    brands = {major} | {head[i : i + 4] for i in range(16, box_end - 3, 4)}
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return AVIF
    if major in _HEIF_BRANDS:
        return HEIF
    if major in _AUDIO_BRANDS:
        raise UnsupportedFormatError(
            "not an image or video Reclaim can hash: the content is an audio file (M4A)"
        )
    if any(brand.startswith(_VIDEO_BRAND_PREFIXES) for brand in brands):
        if major == b"qt  ":
            return QUICKTIME
        return THREE_GP if major.startswith(b"3g") else MP4
    if brands & _HEIF_BRANDS:
        return HEIF
    raise UnsupportedFormatError(
        "not an image or video Reclaim can hash: the content is an ISO media file "
        f"of an unknown type ({major.decode('latin-1')!r})"
    )


_BINARY_SIGNATURES = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x7fELF", "a program"),
)


def _describe(head: bytes) -> str:
    """What unsupported bytes look like, in words, for the error message."""
    for signature, description in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return description
    if not _looks_like_text(head):
        return "in a format Reclaim does not recognise"
    lowered = head.lower()
    if b"<svg" in lowered:
        return "an SVG drawing (vector images are not supported)"
    if lowered.lstrip().startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    return "text"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    # The head may end inside a multi-byte character; three bytes is the most a
    # UTF-8 sequence can leave unfinished.
    for cut in range(4):
        try:
            text = head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return all(ch.isprintable() or ch.isspace() for ch in text)
    return False


__all__ = [
    "HEAD_BYTES",
    "MediaFormat",
    "MediaKind",
    "sniff",
]
