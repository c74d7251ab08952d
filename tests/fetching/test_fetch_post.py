"""SafeFetcher.post: one POST through the same gate as a fetch, for webhooks."""

from __future__ import annotations

import pytest

from reclaim.fetching import BlockedAddressError, FetchTimeoutError, ResolutionError
from tests.support.http import (
    FetcherFactory,
    Handler,
    LoopbackServer,
    ScriptedResolver,
    content,
    redirect,
    send,
)

BODY = b'{"notice": "N-1"}'
HEADERS = {"Content-Type": "application/json", "Idempotency-Key": "k-1"}


def test_the_body_and_headers_arrive(server: LoopbackServer, make_fetcher: FetcherFactory) -> None:
    server.routes["/hook"] = content(b'{"ok": true}', "application/json", status=202)
    result = make_fetcher(allow=["127.0.0.1/32"]).post_sync(
        server.url("/hook"), BODY, headers=HEADERS
    )
    assert result.status_code == 202
    assert result.content == b'{"ok": true}'
    assert result.content_type == "application/json"
    assert result.kind is None
    assert server.bodies == [BODY]
    _path, headers = server.requests[0]
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == "k-1"
    assert headers["Content-Length"] == str(len(BODY))


def test_a_redirect_is_returned_not_followed(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/hook"] = redirect("/moved", status=307)
    server.routes["/moved"] = content(b"{}", "application/json")
    result = make_fetcher(allow=["127.0.0.1/32"]).post_sync(
        server.url("/hook"), BODY, headers=HEADERS
    )
    assert result.status_code == 307
    assert result.headers["location"] == "/moved"
    assert [path for path, _ in server.requests] == ["/hook"]


def test_an_error_status_is_a_result(server: LoopbackServer, make_fetcher: FetcherFactory) -> None:
    server.routes["/hook"] = lambda handler: send(
        handler, 429, b"slow down", "text/plain", [("Retry-After", "30")]
    )
    result = make_fetcher(allow=["127.0.0.1/32"]).post_sync(
        server.url("/hook"), BODY, headers=HEADERS
    )
    assert result.status_code == 429
    assert result.headers["retry-after"] == "30"


def test_a_long_answer_is_cut_not_refused(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    server.routes["/hook"] = content(b"x" * 100_000, "text/plain")
    result = make_fetcher(allow=["127.0.0.1/32"], max_bytes=1000).post_sync(
        server.url("/hook"), BODY, headers=HEADERS
    )
    assert result.status_code == 200
    assert result.content == b"x" * 1000


def test_private_destinations_are_refused_before_connecting(
    server: LoopbackServer, make_fetcher: FetcherFactory
) -> None:
    with pytest.raises(BlockedAddressError):
        make_fetcher().post_sync(server.url("/hook"), BODY, headers=HEADERS)
    assert server.connections == 0


def test_names_are_resolved_once_and_checked(
    make_fetcher: FetcherFactory, resolver: ScriptedResolver
) -> None:
    resolver.set("hooks.example", ["192.168.1.10"])
    with pytest.raises(BlockedAddressError):
        make_fetcher().post_sync("http://hooks.example/x", BODY, headers=HEADERS)
    with pytest.raises(ResolutionError):
        make_fetcher().post_sync("http://unknown.example/x", BODY, headers=HEADERS)


def test_the_deadline_applies(server: LoopbackServer, make_fetcher: FetcherFactory) -> None:
    def stall(handler: Handler) -> None:
        server.stopping.wait(2)

    server.routes["/hook"] = stall
    fetcher = make_fetcher(allow=["127.0.0.1/32"], total_timeout=0.3)
    with pytest.raises(FetchTimeoutError):
        fetcher.post_sync(server.url("/hook"), BODY, headers=HEADERS)


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.example"}, {"Content-Length": "1"}, {"X-Evil": "a\r\nInjected: 1"}],
)
def test_the_fetcher_keeps_framing_headers_to_itself(
    server: LoopbackServer, make_fetcher: FetcherFactory, headers: dict[str, str]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        make_fetcher(allow=["127.0.0.1/32"]).post_sync(server.url("/"), BODY, headers=headers)
    assert server.connections == 0
