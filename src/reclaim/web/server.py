"""Serving the app with bounded requests: uvicorn on h11, with limits httptools lacks.

Uvicorn picks the httptools parser when it is installed, and httptools accepts a
request head of any size: a 64 MB header is buffered whole before the app (and its
authentication) sees anything, so twenty such connections cost gigabytes.  Reclaim
serves with uvicorn's h11 protocol instead, whose parser refuses a request line plus
headers larger than ``h11_max_incomplete_event_size``, and adds in a small subclass
what neither parser offers:

* at most ``RECLAIM_SERVER_MAX_HEADERS`` header fields (431) and a request line of at
  most ``RECLAIM_SERVER_MAX_REQUEST_LINE_BYTES`` (414);
* a deadline for the whole request head, ``RECLAIM_SERVER_HEADER_TIMEOUT_SECONDS``,
  counted from the connection (or from the previous response on a kept-alive one), so a
  client dribbling a byte at a time (slowloris) is answered 408 and dropped;
* at most ``RECLAIM_SERVER_MAX_CONNECTIONS_PER_CLIENT`` open connections from one
  address (the TCP peer: behind a reverse proxy that is the proxy, see
  docs/deployment.md); more are answered 429 and closed at once.

Body sizes are bounded per route by the app itself (the partner API's
``RECLAIM_API_MAX_BODY_BYTES``, the portal's form limits).

Why not another server: hypercorn and granian have the same gaps (no per-client or
head-deadline limits), and gunicorn's ``limit_request_*`` options are not applied by
its uvicorn worker.  h11 is pure Python and slower than httptools; the difference is
small beside the app's own work per request (benchmarks/ measure the app, not the parser).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from reclaim.config import Settings

_REASONS = {
    408: b"Request Timeout",
    414: b"URI Too Long",
    429: b"Too Many Requests",
    431: b"Request Header Fields Too Large",
}


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_head_bytes: int
    max_headers: int
    max_request_line_bytes: int
    header_timeout_seconds: float
    max_connections_per_client: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLimits:
        return cls(
            max_head_bytes=settings.server_max_header_bytes,
            max_headers=settings.server_max_headers,
            max_request_line_bytes=settings.server_max_request_line_bytes,
            header_timeout_seconds=settings.server_header_timeout_seconds,
            max_connections_per_client=settings.server_max_connections_per_client,
        )


class _Refused(h11.RemoteProtocolError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, error_status_hint=status)
        self.status = status


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with Reclaim's limits (a subclass per server carries them:
    see :func:`bounded_protocol`)."""

    limits: ClassVar[RequestLimits]
    open_per_client: ClassVar[Counter[str]]
    _head_deadline: asyncio.TimerHandle | None = None
    _refusal: int | None = None
    _counted: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parse = self.conn.next_event

        def next_event() -> Any:
            event = parse()
            if isinstance(event, h11.Request):
                self._head_received()
                self._check_head(event)
            return event

        self.conn.next_event = next_event  # type: ignore[method-assign]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = self.client[0] if self.client else "?"
        if self.open_per_client[peer] >= self.limits.max_connections_per_client:
            self._reply_and_close(429, "Too many connections from this address.")
            return
        self.open_per_client[peer] += 1
        self._counted = peer
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        if self._counted is not None:
            self.open_per_client[self._counted] -= 1
            if self.open_per_client[self._counted] <= 0:
                del self.open_per_client[self._counted]
            self._counted = None
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            # The next request on a kept-alive connection gets its own deadline.
            self._arm_head_deadline()

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._reply_and_close(self._refusal, msg)

    # --- limits ---------------------------------------------------------------

    def _check_head(self, event: h11.Request) -> None:
        line = len(event.method) + len(event.target) + len(b"HTTP/1.1") + 2
        if line > self.limits.max_request_line_bytes:
            self._refusal = 414
            raise _Refused(414, "Request line too long.")
        if len(event.headers) > self.limits.max_headers:
            self._refusal = 431
            raise _Refused(431, "Too many header fields.")

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self.loop.call_later(
            self.limits.header_timeout_seconds, self._head_too_slow
        )

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_received(self) -> None:
        self._disarm_head_deadline()

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.conn.their_state in (h11.IDLE, h11.DONE) and not self.transport.is_closing():
            self._reply_and_close(408, "The request head took too long.")

    def _reply_and_close(self, status: int, message: str) -> None:
        body = message.encode("ascii")
        head = (
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n"
        ) % (status, _REASONS.get(status, b"Bad Request"), len(body))
        self.transport.write(head + body)
        self.transport.close()


def bounded_protocol(limits: RequestLimits) -> type[H11Protocol]:
    """A protocol class enforcing ``limits``; the per-client counts are shared by the
    connections of one server (one event loop, so a plain Counter is safe)."""
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"limits": limits, "open_per_client": Counter()},
    )


def server_config(settings: Settings, app: Any, *, host: str, port: int) -> uvicorn.Config:
    """The uvicorn configuration ``reclaim serve`` runs (tests start the same one)."""
    limits = RequestLimits.from_settings(settings)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=bounded_protocol(limits),
        h11_max_incomplete_event_size=limits.max_head_bytes,
        timeout_keep_alive=5,
        log_level=settings.log_level.lower(),
        # Forwarded headers only from the proxies the operator named; anyone else could
        # otherwise pick the address the PIN and login throttles count.
        proxy_headers=bool(settings.server_trusted_proxies),
        forwarded_allow_ips=list(settings.server_trusted_proxies) or None,
        server_header=False,
        lifespan="on",
    )
