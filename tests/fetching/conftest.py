"""Fixtures for the fetcher tests: loopback servers and fetchers that cannot leave lo."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from reclaim.fetching import FetchPolicy, SafeFetcher, parse_allowlist
from tests.support.http import (
    FetcherFactory,
    LoopbackOnlyBackend,
    LoopbackServer,
    ScriptedResolver,
)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    started = LoopbackServer().start()
    yield started
    started.stop()


@pytest.fixture
def other_server() -> Iterator[LoopbackServer]:
    started = LoopbackServer().start()
    yield started
    started.stop()


@pytest.fixture
def guard() -> Iterator[LoopbackOnlyBackend]:
    backend = LoopbackOnlyBackend()
    yield backend
    assert backend.violations == [], "the fetcher tried to dial a non-loopback address"


@pytest.fixture
def resolver() -> ScriptedResolver:
    return ScriptedResolver()


@pytest.fixture
def make_fetcher(guard: LoopbackOnlyBackend, resolver: ScriptedResolver) -> FetcherFactory:
    """Build a fetcher with short test timeouts; ``allow`` takes allow-list strings."""

    def make(*, allow: Sequence[str] = (), **policy: object) -> SafeFetcher:
        settings: dict[str, object] = {
            "total_timeout": 5.0,
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
        }
        settings.update(policy)
        ssl_context = settings.pop("ssl_context", None)
        return SafeFetcher(
            FetchPolicy(allowlist=parse_allowlist(allow), **settings),  # type: ignore[arg-type]
            resolver=resolver,
            network_backend=guard,
            ssl_context=ssl_context,  # type: ignore[arg-type]
        )

    return make
