"""Allowed fetches: results, pinning, size and time caps, content checks."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import time
import zlib

import pytest

from reclaim.fetching import (
    ConnectError,
    ContentTypeError,
    FetchPolicy,
    FetchProtocolError,
    FetchTimeoutError,
    SafeFetcher,
    TooLargeError,
)
from tests.support.http import (
    FetcherFactory,
    Handler,
    LoopbackServer,
    ScriptedResolver,
    content,
    png_bytes,
    redirect,
    send,
)

LOOPBACK = ["127.0.0.0/8"]
HTML_PAGE = b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>"


def test_an_allowed_loopback_fetch_returns_a_real_png(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    png = png_bytes()
    server.routes["/start"] = redirect("/img.png", status=301)
    server.routes["/img.png"] = content(png, "image/png")
    result = make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/start"))
    assert result.status_code == 200
    assert result.is_success
    assert not result.is_gone
    assert result.content == png
    assert (result.content_type, result.kind) == ("image/png", "image")
    assert result.declared_content_type == "image/png"
    assert result.url == server.url("/start")
    assert result.final_url == server.url("/img.png")
    assert [(hop.url, hop.status_code) for hop in result.redirects] == [(server.url("/start"), 301)]
    assert result.address == ipaddress.ip_address("127.0.0.1")
    assert result.headers["content-length"] == str(len(png))
    # The request carried no cookies or credentials, and asked for unencoded content.
    _, headers = server.requests[-1]
    assert headers["Accept-Encoding"] == "identity"
    assert "Cookie" not in headers
    assert "Authorization" not in headers


def test_the_async_core_gives_the_same_result(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    png = png_bytes()
    server.routes["/img"] = content(png, "image/png")
    fetcher = make_fetcher(allow=LOOPBACK)

    async def fetch_two() -> list[bytes]:
        results = await asyncio.gather(
            fetcher.fetch(server.url("/img")), fetcher.fetch(server.url("/img?again"))
        )
        return [result.content for result in results]

    assert asyncio.run(fetch_two()) == [png, png]


def test_dns_answers_are_pinned_against_rebinding(
    server: LoopbackServer, make_fetcher: FetcherFactory, resolver: ScriptedResolver
) -> None:
    # First answer: the allowed server.  Every later answer: another (also allowed)
    # loopback address where nothing listens.  Asking twice would show as a failure.
    resolver.set("rebind.example.com", ["127.0.0.1"], ["127.0.0.2"])
    png = png_bytes()
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = content(png, "image/png")
    result = make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/a", host="rebind.example.com"))
    assert result.content == png
    assert resolver.calls == ["rebind.example.com"]
    assert result.address == ipaddress.ip_address("127.0.0.1")
    assert [hop.address for hop in result.redirects] == [ipaddress.ip_address("127.0.0.1")]
    # The server saw the original host name, not the pinned address.
    assert {headers["Host"] for _, headers in server.requests} == {
        f"rebind.example.com:{server.port}"
    }


@pytest.mark.parametrize("status", [404, 410, 451])
def test_gone_statuses_are_results_not_errors(
    status: int, server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/removed"] = content(b"<html><body>gone</body></html>", "text/html", status)
    result = make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/removed"))
    assert result.status_code == status
    assert result.is_gone
    assert not result.is_success
    assert result.kind is None
    assert result.content_type == "text/html"


def test_a_gone_page_in_an_unsupported_encoding_is_still_gone(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/gone"] = lambda handler: send(
        handler, 410, b"\x0b\x02\x80", "text/html", [("Content-Encoding", "br")]
    )
    result = make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/gone"))
    assert result.is_gone
    assert result.content == b"\x0b\x02\x80"


def test_server_errors_are_results_too(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/oops"] = content(b"oops", "application/json", 503)
    result = make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/oops"))
    assert (result.status_code, result.is_gone, result.content_type) == (
        503,
        False,
        "application/json",
    )


def test_html_pages_are_accepted_as_pages(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/page"] = content(HTML_PAGE, "text/html; charset=utf-8")
    result = make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/page"))
    assert (result.content_type, result.kind, result.content) == ("text/html", "page", HTML_PAGE)


def test_a_declared_jpeg_that_is_html_is_reported_as_html(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/photo.jpg"] = content(HTML_PAGE, "image/jpeg")
    with pytest.raises(
        ContentTypeError, match="image/jpeg, but the content is an HTML page"
    ) as bad:
        make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/photo.jpg"))
    assert (bad.value.declared, bad.value.sniffed) == ("image/jpeg", "text/html")


def test_other_content_is_refused_after_sniffing(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/a.zip"] = content(b"PK\x03\x04" + b"\0" * 4096, "application/zip")
    with pytest.raises(ContentTypeError, match="not an image, a video or a web page"):
        make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/a.zip"))


def test_content_length_over_the_cap_is_refused_before_reading(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    def huge(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()
        handler.server.stopping.wait(5)  # sends no body at all

    server.routes["/huge"] = huge
    started = time.monotonic()
    with pytest.raises(TooLargeError, match="announces 1,000,000,000,000 bytes") as refused:
        make_fetcher(allow=LOOPBACK, max_bytes=1_000_000).fetch_sync(server.url("/huge"))
    assert refused.value.limit == 1_000_000
    assert time.monotonic() - started < 1.0


def test_an_endless_chunked_body_stops_at_the_cap(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    def endless(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = png_bytes() + b"\0" * 16384
        while not handler.server.stopping.is_set():
            handler.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))

    server.routes["/forever"] = endless
    with pytest.raises(TooLargeError, match="larger than the 200,000-byte limit"):
        make_fetcher(allow=LOOPBACK, max_bytes=200_000).fetch_sync(server.url("/forever"))


def test_a_slow_drip_body_hits_the_total_time_cap(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    def drip(handler: Handler) -> None:
        body = png_bytes() + b"\0" * 1000
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body:  # one byte every 20 ms: never trips the read timeout
            if handler.server.stopping.wait(0.02):
                return
            handler.wfile.write(bytes([byte]))

    server.routes["/drip"] = drip
    fetcher = make_fetcher(allow=LOOPBACK, total_timeout=0.6, read_timeout=2.0)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError, match=r"longer than the 0\.6-second limit"):
        fetcher.fetch_sync(server.url("/drip"))
    assert time.monotonic() - started < 1.5


def test_a_silent_server_hits_the_read_timeout(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    def silent(handler: Handler) -> None:
        handler.server.stopping.wait(5)

    server.routes["/silent"] = silent
    fetcher = make_fetcher(allow=LOOPBACK, read_timeout=0.3, total_timeout=5.0)
    with pytest.raises(FetchTimeoutError, match="stopped responding"):
        fetcher.fetch_sync(server.url("/silent"))


def test_a_closed_port_is_a_connect_error(make_fetcher: FetcherFactory) -> None:
    with LoopbackServer() as unused:  # bind, learn a free port, close again
        port = unused.port
    with pytest.raises(ConnectError, match=r"could not connect to 127\.0\.0\.1"):
        make_fetcher(allow=LOOPBACK).fetch_sync(f"http://127.0.0.1:{port}/")


def test_garbage_instead_of_http_is_a_protocol_error(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    def garbage(handler: Handler) -> None:
        handler.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    server.routes["/ssh"] = garbage
    with pytest.raises(FetchProtocolError, match="invalid HTTP response"):
        make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/ssh"))


def test_gzip_that_the_server_sends_anyway_is_decoded(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    png = png_bytes()
    server.routes["/gz"] = lambda handler: send(
        handler, 200, gzip.compress(png), "image/png", [("Content-Encoding", "gzip")]
    )
    server.routes["/raw-deflate"] = lambda handler: send(
        handler, 200, _raw_deflate(png), "image/png", [("Content-Encoding", "deflate")]
    )
    fetcher = make_fetcher(allow=LOOPBACK)
    assert fetcher.fetch_sync(server.url("/gz")).content == png
    assert fetcher.fetch_sync(server.url("/raw-deflate")).content == png


def test_a_compression_bomb_counts_against_the_cap_by_decoded_size(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    bomb = gzip.compress(png_bytes() + b"\0" * 50_000_000)  # ~50 KB on the wire
    server.routes["/bomb"] = lambda handler: send(
        handler, 200, bomb, "image/png", [("Content-Encoding", "gzip")]
    )
    with pytest.raises(TooLargeError):
        make_fetcher(allow=LOOPBACK, max_bytes=1_000_000).fetch_sync(server.url("/bomb"))


def test_unsupported_content_encodings_are_refused(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/br"] = lambda handler: send(
        handler, 200, b"\x0b\x02\x80", "image/png", [("Content-Encoding", "br")]
    )
    with pytest.raises(ContentTypeError, match="encoded as 'br'"):
        make_fetcher(allow=LOOPBACK).fetch_sync(server.url("/br"))


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="positive"):
        FetchPolicy(max_bytes=0)
    with pytest.raises(ValueError, match="timeouts"):
        FetchPolicy(read_timeout=0)
    assert SafeFetcher(FetchPolicy()).policy.max_redirects == 5


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()
