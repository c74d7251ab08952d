"""What fetched bytes really are, and whether that agrees with what the server said.

A server's Content-Type is a claim; the first bytes are evidence.  Media is accepted
only when the bytes carry a known image or video signature, and when the server
declared media, the declared family (image or video) must match the bytes: an
``image/jpeg`` that turns out to be an HTML page is reported as exactly that.  HTML
pages are accepted because a reported URL is often a page around the media.

SVG is deliberately not accepted: it is a scriptable document rather than pixels, and
the hashers cannot fingerprint it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reclaim.fetching.errors import ContentTypeError

#: Bytes to collect before deciding what a body is (WHATWG sniffing reads 512 too).
SNIFF_BYTES = 512

HTML = "text/html"
Kind = Literal["image", "video", "page"]

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\xff\x0a", "image/jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl"),
    (b"FLV\x01", "video/x-flv"),
    (b"\x00\x00\x01\xba", "video/mpeg"),
    (b"\x00\x00\x01\xb3", "video/mpeg"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "video/x-ms-asf"),
)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_3GP_BRANDS = {b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"3g2b", b"3g2c"}
# Audio-only ISO media brands: a reported URL that is an .m4a is not media we review.
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
# Old QuickTime files start with an atom other than ftyp.
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

_HTML_START = re.compile(
    rb"[\t\n\x0c\r ]*(?:<!doctype html|<html|<head|<body|<script|<iframe|<h1|<div|<font"
    rb"|<table|<a|<style|<title|<b|<br|<p|<!--|<meta|<link|<img|<video)[\t\n\x0c\r >/]",
    re.IGNORECASE,
)
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
# Declared types that say nothing about the content, so the bytes decide alone.
_UNINFORMATIVE = {"", "application/octet-stream", "binary/octet-stream", "text/plain"}


def sniff(head: bytes) -> str | None:
    """The media type the leading bytes identify, or None if unrecognised."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    for prefix, media_type in _SIGNATURES:
        if head.startswith(prefix):
            return media_type
    return _sniff_containers(head) or (HTML if _HTML_START.match(head) else None)


def _sniff_containers(head: bytes) -> str | None:
    if head[4:8] == b"ftyp":
        return _sniff_iso_brand(head[8:12])
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska, of which WebM is a profile
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    for matches, media_type in _CONTAINER_TESTS:
        if matches(head):
            return media_type
    return None


_BMP_HEADER_SIZES = {n.to_bytes(4, "little") for n in (12, 40, 52, 56, 64, 108, 124)}
_CONTAINER_TESTS: tuple[tuple[Callable[[bytes], bool], str], ...] = (
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", "image/webp"),
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"AVI ", "video/x-msvideo"),
    # "BM" alone is too weak (text can start with it); require a known DIB header size.
    (lambda h: h[:2] == b"BM" and h[14:18] in _BMP_HEADER_SIZES, "image/bmp"),
    # MPEG transport stream: a sync byte every 188 bytes.
    (lambda h: len(h) >= 189 and h[0] == 0x47 and h[188] == 0x47, "video/mp2t"),
    (lambda h: h[4:8] in _QUICKTIME_ATOMS, "video/quicktime"),
)


def _sniff_iso_brand(brand: bytes) -> str | None:
    if brand in _HEIF_BRANDS:
        return "image/heic"
    if brand in _AVIF_BRANDS:
        return "image/avif"
    if brand in _AUDIO_BRANDS:
        return None
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in _3GP_BRANDS:
        return "video/3gpp"
    return "video/mp4"


def declared_type(header_value: str | None) -> str:
    """The media type of a Content-Type header, lower-case and without parameters."""
    if header_value is None:
        return ""
    return header_value.split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class ContentVerdict:
    content_type: str
    kind: Kind


def judge(declared: str, head: bytes, *, url: str) -> ContentVerdict:
    """Accept the content as an image, video or page, or raise ContentTypeError."""
    sniffed = sniff(head)
    declared_family = _family(declared)
    if sniffed is not None and sniffed != HTML:
        sniffed_family = _family(sniffed)
        if declared_family in ("image", "video") and declared_family != sniffed_family:
            raise ContentTypeError(
                f"the server says this is {declared}, but the content is {sniffed}",
                url=url,
                declared=declared,
                sniffed=sniffed,
            )
        return ContentVerdict(sniffed, "image" if sniffed_family == "image" else "video")
    if declared_family in ("image", "video"):
        what = "an HTML page" if sniffed == HTML else "not a recognised image or video format"
        raise ContentTypeError(
            f"the server says this is {declared}, but the content is {what}",
            url=url,
            declared=declared,
            sniffed=sniffed,
        )
    if sniffed == HTML and (declared in _HTML_TYPES or declared in _UNINFORMATIVE):
        return ContentVerdict(HTML, "page")
    if sniffed is None and declared in _HTML_TYPES:
        # Pages need not start with a tag; the header is the only evidence here.
        return ContentVerdict(HTML, "page")
    raise ContentTypeError(
        f"the content is not an image, a video or a web page "
        f"(the server says {declared or 'nothing'})",
        url=url,
        declared=declared or None,
        sniffed=sniffed,
    )


def _family(media_type: str) -> str:
    return media_type.partition("/")[0]
