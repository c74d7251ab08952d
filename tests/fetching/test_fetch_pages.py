"""Media links in reported pages, and the magic-byte sniffer."""

from __future__ import annotations

import pytest

from reclaim.fetching import ContentTypeError, extract_media_urls
from reclaim.fetching.sniff import judge, sniff
from tests.support.http import png_bytes

PAGE = b"""<!doctype html><html><head>
<meta property="og:image" content="https://cdn.example.com/og.jpg">
<meta name="twitter:image" content="/tw.png">
<base href="https://static.example.net/base/">
</head><body>
<img src="a.jpg"><img src="a.jpg"><img src="data:image/png;base64,AAAA">
<img src="javascript:alert(1)"><img src="http://0x7f000001/x.png"><img>
<video src="//videos.example.org/v.mp4" poster="poster.jpg"><source src="s.webm"></video>
<img src="http://user:pw@evil.example/x.jpg">
</body></html>"""


def test_media_urls_are_found_resolved_and_filtered() -> None:
    assert extract_media_urls(PAGE, "https://site.example.com/page") == [
        "https://cdn.example.com/og.jpg",
        "https://static.example.net/tw.png",
        "https://static.example.net/base/a.jpg",
        "https://videos.example.org/v.mp4",
        "https://static.example.net/base/poster.jpg",
        "https://static.example.net/base/s.webm",
    ]


def test_extraction_survives_hostile_markup() -> None:
    hostile = b"<img src='x.png'" + b"<" * 100_000 + b'\xff\xfe<img src="y.png">'
    urls = extract_media_urls(hostile, "http://example.com/", charset="no-such-charset")
    assert all(url.startswith("http://example.com/") for url in urls)


def test_extraction_is_capped() -> None:
    page = b"".join(b'<img src="/%d.jpg">' % i for i in range(500))
    assert len(extract_media_urls(page, "http://example.com/")) == 50


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (png_bytes(), "image/png"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"BM" + b"\0" * 12 + (40).to_bytes(4, "little"), "image/bmp"),
        (b"\x00\x00\x00\x18ftypheic", "image/heic"),
        (b"\x00\x00\x00\x1cftypavif", "image/avif"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"RIFF\x10\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"  \n<!DOCTYPE html><html>", "text/html"),
        (b"\xef\xbb\xbf<html lang=en>", "text/html"),
        (b"\x00\x00\x00\x20ftypM4A ", None),
        (b"BMW is a car", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", None),
        (b"", None),
    ],
)
def test_sniffing(head: bytes, media_type: str | None) -> None:
    assert sniff(head) == media_type


@pytest.mark.parametrize(
    ("declared", "head", "verdict"),
    [
        ("image/png", png_bytes(), ("image/png", "image")),
        ("image/jpeg", png_bytes(), ("image/png", "image")),  # same family: mislabels abound
        ("", png_bytes(), ("image/png", "image")),
        ("application/octet-stream", b"\x00\x00\x00\x20ftypisom", ("video/mp4", "video")),
        ("text/html", b"Hello <b>there</b>", ("text/html", "page")),
        ("text/plain", b"<html><body>", ("text/html", "page")),
    ],
)
def test_content_judgement_accepts(declared: str, head: bytes, verdict: tuple[str, str]) -> None:
    judged = judge(declared, head, url="http://example.com/")
    assert (judged.content_type, judged.kind) == verdict


@pytest.mark.parametrize(
    ("declared", "head", "message"),
    [
        ("image/jpeg", b"<!doctype html><html>", "an HTML page"),
        ("video/mp4", png_bytes(), "the content is image/png"),
        ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'>", "not a recognised"),
        ("image/png", b"just text", "not a recognised"),
        ("application/pdf", b"%PDF-1.7", "not an image, a video or a web page"),
        ("application/json", b"<html>", "not an image, a video or a web page"),
    ],
)
def test_content_judgement_refuses(declared: str, head: bytes, message: str) -> None:
    with pytest.raises(ContentTypeError, match=message):
        judge(declared, head, url="http://example.com/")
