"""Resolution: the system resolver, slow resolvers, and the default network backend."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Sequence

import pytest

from reclaim.fetching import (
    FetchPolicy,
    FetchTimeoutError,
    SafeFetcher,
    SystemResolver,
    parse_allowlist,
)
from reclaim.fetching.addresses import IPAddress
from tests.support.http import LoopbackServer, content, png_bytes


def test_system_resolver_returns_addresses_without_duplicates() -> None:
    # A numeric host: getaddrinfo answers it locally, no DNS query leaves the machine.
    answer = asyncio.run(SystemResolver().resolve("127.0.0.1", 80))
    assert list(answer) == [ipaddress.ip_address("127.0.0.1")]


class HangingResolver:
    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")


def test_a_hanging_resolver_counts_against_the_total_time_cap() -> None:
    fetcher = SafeFetcher(FetchPolicy(total_timeout=0.3), resolver=HangingResolver())
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError):
        fetcher.fetch_sync("http://slow-dns.example.com/")
    assert time.monotonic() - started < 2


def test_the_default_backend_fetches_an_allow_listed_literal(server: LoopbackServer) -> None:
    # No guard backend here: the production code path end to end, to 127.0.0.1 only.
    png = png_bytes()
    server.routes["/p"] = content(png, "image/png")
    fetcher = SafeFetcher(FetchPolicy(allowlist=parse_allowlist([f"127.0.0.1/32:{server.port}"])))
    assert fetcher.fetch_sync(server.url("/p")).content == png
