"""HTTPS through a pinned address: SNI and certificate checks use the URL's host name."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest

from reclaim.fetching import TLSError
from tests.support.http import (
    FetcherFactory,
    LoopbackServer,
    ScriptedResolver,
    TestCertificates,
    content,
    make_certificates,
    png_bytes,
)

HOST = "media.reclaim-test.org"


@pytest.fixture
def certificates(tmp_path: Path) -> TestCertificates:
    return make_certificates(HOST, tmp_path)


@pytest.fixture
def tls_server(certificates: TestCertificates) -> Iterator[LoopbackServer]:
    started = LoopbackServer(tls=certificates.server_context).start()
    yield started
    started.stop()


def test_https_is_pinned_to_the_checked_address_yet_verified_by_name(
    tls_server: LoopbackServer,
    certificates: TestCertificates,
    make_fetcher: FetcherFactory,
    resolver: ScriptedResolver,
) -> None:
    resolver.set(HOST, ["127.0.0.1"])
    png = png_bytes()
    tls_server.routes["/a.png"] = content(png, "image/png")
    fetcher = make_fetcher(allow=["127.0.0.1/32"], ssl_context=certificates.client_context)
    result = fetcher.fetch_sync(tls_server.url("/a.png", scheme="https", host=HOST))
    assert result.content == png
    assert result.address == ipaddress.ip_address("127.0.0.1")
    assert result.final_url == f"https://{HOST}:{tls_server.port}/a.png"
    assert resolver.calls == [HOST]


def test_a_certificate_for_another_name_is_refused(
    tls_server: LoopbackServer,
    certificates: TestCertificates,
    make_fetcher: FetcherFactory,
    resolver: ScriptedResolver,
) -> None:
    # Same pinned address, different name: verification must follow the name.
    resolver.set("impostor.reclaim-test.org", ["127.0.0.1"])
    fetcher = make_fetcher(allow=["127.0.0.1/32"], ssl_context=certificates.client_context)
    with pytest.raises(TLSError, match="certificate or TLS error"):
        fetcher.fetch_sync(tls_server.url("/", scheme="https", host="impostor.reclaim-test.org"))


def test_an_untrusted_certificate_is_refused(
    tls_server: LoopbackServer, make_fetcher: FetcherFactory, resolver: ScriptedResolver
) -> None:
    resolver.set(HOST, ["127.0.0.1"])
    fetcher = make_fetcher(allow=["127.0.0.1/32"])  # system trust store: test CA unknown
    with pytest.raises(TLSError):
        fetcher.fetch_sync(tls_server.url("/", scheme="https", host=HOST))
