"""The safe fetcher: fetch a reported URL without becoming an SSRF weapon.

For every hop (the reported URL and each redirect) the fetcher parses the URL
strictly, resolves its host once, checks every address the host resolves to, pins
the connection to those checked addresses and only then connects.  Redirects are
followed by hand so each one goes through the same gate.  A wall-clock deadline
covers the whole fetch, DNS and slow-drip bodies included.

The core is async (the web app runs on asyncio); :meth:`SafeFetcher.fetch_sync` is a
thin wrapper for huey worker threads, which have no event loop of their own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import time
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import httpcore

from reclaim.fetching.addresses import AllowRule, IPAddress, blocked_reason, parse_allowlist
from reclaim.fetching.body import read_body
from reclaim.fetching.errors import (
    BlockedAddressError,
    BlockedPortError,
    ConnectError,
    FetchError,
    FetchProtocolError,
    FetchTimeoutError,
    RedirectLoopError,
    ResolutionError,
    TLSError,
    TooManyRedirectsError,
)
from reclaim.fetching.resolver import Resolver, SystemResolver
from reclaim.fetching.sniff import SNIFF_BYTES, Kind, declared_type, sniff
from reclaim.fetching.transport import PinnedBackend
from reclaim.fetching.urls import SafeUrl

DEFAULT_USER_AGENT = "Reclaim-Fetcher/0.1 (child-protection hotline; content review)"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# 451 "Unavailable For Legal Reasons" is how some platforms answer a takedown notice.
_GONE_STATUSES = frozenset({404, 410, 451})
_ACCEPT = (b"Accept", b"image/*, video/*, text/html;q=0.9, */*;q=0.1")
_KEPT_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-disposition",
    "last-modified",
    "etag",
    "date",
    "server",
    "cache-control",
    "expires",
    "age",
    "via",
    "location",
    "retry-after",
)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits and exceptions for one fetcher; built from Settings by the entry point."""

    max_bytes: int = 64 * 1024 * 1024
    total_timeout: float = 30.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    max_redirects: int = 5
    allowlist: tuple[AllowRule, ...] = ()
    allowed_ports: frozenset[int] | None = None
    user_agent: str = DEFAULT_USER_AGENT

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_redirects < 0:
            raise ValueError("max_bytes must be positive and max_redirects not negative")
        if min(self.total_timeout, self.connect_timeout, self.read_timeout) <= 0:
            raise ValueError("fetch timeouts must be positive")

    def allowing(
        self, allowlist: Iterable[str], allowed_ports: Iterable[int] | None
    ) -> FetchPolicy:
        """These limits with the exceptions as configured: allow-list entries as written
        in ``RECLAIM_FETCH_ALLOWLIST``, and the ports (``None``: any port).

        Every fetcher an entry point builds (review, verification, webhooks) obeys the
        same two settings, so one place says which internal addresses Reclaim may call.
        """
        return replace(
            self,
            allowlist=parse_allowlist(allowlist),
            allowed_ports=frozenset(allowed_ports) if allowed_ports is not None else None,
        )

    def check_address(self, address: IPAddress, url: SafeUrl, *, resolved: bool) -> None:
        """Raise BlockedAddressError unless the fetcher may connect to ``address``."""
        if any(rule.permits(address, url.port) for rule in self.allowlist):
            return
        subject = f"{url} resolves to {address}," if resolved else f"{url} is"
        reason = blocked_reason(address)
        if reason is not None and any(rule.covers(address) for rule in self.allowlist):
            raise BlockedPortError(
                f"{subject} allow-listed, but not on port {url.port}",
                url=str(url),
                address=address,
                reason="port not allow-listed",
            )
        if reason is not None:
            raise BlockedAddressError(
                f"{subject} {reason}; the fetcher does not connect to private, internal or "
                "special-purpose addresses",
                url=str(url),
                address=address,
                reason=reason,
            )
        if self.allowed_ports is not None and url.port not in self.allowed_ports:
            raise BlockedPortError(
                f"{url} uses port {url.port}, which the fetcher may not connect to",
                url=str(url),
                address=address,
                reason="port not allowed",
            )


@dataclass(frozen=True, slots=True)
class RedirectHop:
    """One redirect the fetch followed."""

    url: str
    status_code: int
    address: IPAddress | None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a fetch found.  Any HTTP status is a result; only 2xx content is judged.

    ``content_type`` is what the bytes are (sniffed) for a 2xx response, and the best
    available guess otherwise; ``declared_content_type`` is what the server said.
    ``kind`` is "image", "video" or "page" for 2xx responses and None otherwise.
    """

    url: str
    final_url: str
    status_code: int
    headers: Mapping[str, str]
    content_type: str | None
    declared_content_type: str | None
    kind: Kind | None
    content: bytes = field(repr=False)
    redirects: tuple[RedirectHop, ...]
    address: IPAddress | None

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_gone(self) -> bool:
        """The server says the content is not there (404, 410, 451)."""
        return self.status_code in _GONE_STATUSES


class SafeFetcher:
    """Fetches URLs under a :class:`FetchPolicy`.

    ``resolver`` defaults to the system resolver; ``ssl_context`` to the system trust
    store; ``network_backend`` is the httpcore backend that opens sockets (tests pass
    one that records connections).  One fetcher can be shared across tasks and threads:
    each fetch gets its own connection pool, pins and resolution cache.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.policy = policy
        self._resolver = resolver if resolver is not None else SystemResolver()
        self._ssl_context = ssl_context if ssl_context is not None else ssl.create_default_context()
        self._network_backend = network_backend

    def fetch_sync(self, url: str, *, deadline: float | None = None) -> FetchResult:
        """Blocking :meth:`fetch`, for job threads and the command line.

        When the calling thread already runs an event loop (a sync library driving one,
        such as Playwright's), the fetch runs on a loop of its own in a helper thread:
        blocking is what the caller asked for, and nesting loops is not possible.
        """
        return _run_blocking(self.fetch(url, deadline=deadline))

    async def fetch(self, url: str, *, deadline: float | None = None) -> FetchResult:
        """Fetch ``url``; raise a :class:`FetchError` subclass if it is refused or fails.

        ``deadline`` (a ``time.monotonic()`` value) shares one time budget between
        several fetches (a page and the media it shows): each gets whatever is left of
        it, and never more than the policy's total limit.
        """
        target = SafeUrl.parse(url)
        return await self._within_deadline(target, self._fetch(target), deadline)

    def post_sync(self, url: str, content: bytes, *, headers: Mapping[str, str]) -> FetchResult:
        """Blocking :meth:`post`, for job threads (see :meth:`fetch_sync`)."""
        return _run_blocking(self.post(url, content, headers=headers))

    async def post(self, url: str, content: bytes, *, headers: Mapping[str, str]) -> FetchResult:
        """POST a small body to ``url`` once, through the same gate as :meth:`fetch`.

        This is how webhooks leave Reclaim.  Parsing, address checks, pinning, the
        deadline and the error types are the fetch's own.  What differs follows from a
        POST not being safe to repeat or to move: a redirect is never followed (it comes
        back as the result), and the response body is kept only up to ``max_bytes``,
        the rest discarded rather than refused, because the status is the answer.
        ``headers`` are added to Host, User-Agent and Content-Length, which the fetcher
        sets itself.
        """
        target = SafeUrl.parse(url)
        length = (b"Content-Length", str(len(content)).encode("ascii"))
        sent = [*self._headers(target, length), *_request_headers(headers)]
        return await self._within_deadline(target, self._post(target, content, sent))

    async def _within_deadline(
        self,
        target: SafeUrl,
        exchange: Coroutine[Any, Any, FetchResult],
        deadline: float | None = None,
    ) -> FetchResult:
        limit = self.policy.total_timeout
        if deadline is not None:
            limit = min(limit, deadline - time.monotonic())
        if limit <= 0:
            exchange.close()
            raise FetchTimeoutError(
                f"no time was left to fetch {target} within the overall limit", url=str(target)
            )
        try:
            async with asyncio.timeout(limit):
                return await exchange
        except TimeoutError:
            raise FetchTimeoutError(
                f"fetching {target} took longer than the {limit:g}-second limit; gave up",
                url=str(target),
            ) from None

    async def _fetch(self, target: SafeUrl) -> FetchResult:
        backend = PinnedBackend(self._network_backend)
        resolved: dict[str, Sequence[IPAddress]] = {}
        visited = {str(target)}
        hops: list[RedirectHop] = []
        current = target
        async with self._pool(backend) as pool:
            while True:
                addresses = await self._checked_addresses(current, resolved)
                backend.pin(current.host, current.port, addresses)
                with _translated_errors(current):
                    async with pool.stream(
                        "GET",
                        _core_url(current),
                        headers=self._headers(current, _ACCEPT),
                        extensions={"timeout": self._timeouts()},
                    ) as response:
                        address = backend.connected_address(current.host, current.port)
                        location = _redirect_location(response)
                        if location is None:
                            return await self._result(target, current, response, hops, address)
                hops.append(RedirectHop(str(current), response.status, address))
                current = self._next_hop(current, location, visited, len(hops))

    async def _post(
        self, target: SafeUrl, content: bytes, headers: list[tuple[bytes, bytes]]
    ) -> FetchResult:
        backend = PinnedBackend(self._network_backend)
        backend.pin(target.host, target.port, await self._checked_addresses(target, {}))
        async with self._pool(backend) as pool:
            with _translated_errors(target):
                async with pool.stream(
                    "POST",
                    _core_url(target),
                    headers=headers,
                    content=content,
                    extensions={"timeout": self._timeouts()},
                ) as response:
                    address = backend.connected_address(target.host, target.port)
                    body = await _read_prefix(response.aiter_stream(), self.policy.max_bytes)
        response_headers = _header_map(response.headers)
        declared = declared_type(response_headers.get("content-type")) or None
        return FetchResult(
            url=str(target),
            final_url=str(target),
            status_code=response.status,
            headers=MappingProxyType(response_headers),
            content_type=declared,
            declared_content_type=declared,
            kind=None,
            content=body,
            redirects=(),
            address=address,
        )

    def _pool(self, backend: PinnedBackend) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            ssl_context=self._ssl_context, network_backend=backend, retries=0, http2=False
        )

    def _next_hop(self, current: SafeUrl, location: str, visited: set[str], hops: int) -> SafeUrl:
        following = current.join(location)
        if str(following) in visited:
            raise RedirectLoopError(
                f"{current} redirects back to {following}, already visited: a redirect loop",
                url=str(following),
            )
        if hops > self.policy.max_redirects:
            raise TooManyRedirectsError(
                f"gave up after {self.policy.max_redirects} redirects (next: {following})",
                url=str(following),
            )
        visited.add(str(following))
        return following

    async def _checked_addresses(
        self, url: SafeUrl, resolved: dict[str, Sequence[IPAddress]]
    ) -> Sequence[IPAddress]:
        if url.ip is not None:
            self.policy.check_address(url.ip, url, resolved=False)
            return (url.ip,)
        if url.host not in resolved:
            # One question per host per fetch: the answer checked is the answer used.
            try:
                answer = tuple(await self._resolver.resolve(url.host, url.port))
            except OSError as exc:
                raise ResolutionError(
                    f"could not resolve {url.host}: {exc}", url=str(url)
                ) from None
            if not answer:
                raise ResolutionError(f"{url.host} has no addresses", url=str(url))
            resolved[url.host] = answer
        addresses = resolved[url.host]
        for address in addresses:
            self.policy.check_address(address, url, resolved=True)
        return addresses

    def _headers(self, url: SafeUrl, *extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
        # No cookies, no Referer, no credentials: a fetch carries nothing a hostile
        # server could learn from or replay.
        return [
            (b"Host", url.authority.encode("ascii")),
            (b"User-Agent", self.policy.user_agent.encode("ascii", "replace")),
            *extra,
            (b"Accept-Encoding", b"identity"),
        ]

    def _timeouts(self) -> dict[str, float]:
        return {
            "connect": self.policy.connect_timeout,
            "read": self.policy.read_timeout,
            "write": self.policy.read_timeout,
            "pool": self.policy.connect_timeout,
        }

    async def _result(
        self,
        target: SafeUrl,
        final: SafeUrl,
        response: httpcore.Response,
        hops: list[RedirectHop],
        address: IPAddress | None,
    ) -> FetchResult:
        headers = _header_map(response.headers)
        success = 200 <= response.status < 300
        body = await read_body(
            response.aiter_stream(),
            headers,
            limit=self.policy.max_bytes,
            url=str(final),
            judge_content=success,
        )
        declared = declared_type(headers.get("content-type")) or None
        content_type: str | None = sniff(body.content[:SNIFF_BYTES]) or declared
        kind: Kind | None = None
        if body.verdict is not None:
            content_type, kind = body.verdict.content_type, body.verdict.kind
        return FetchResult(
            url=str(target),
            final_url=str(final),
            status_code=response.status,
            headers=MappingProxyType(headers),
            content_type=content_type,
            declared_content_type=declared,
            kind=kind,
            content=body.content,
            redirects=tuple(hops),
            address=address,
        )


def _run_blocking(exchange: Coroutine[Any, Any, FetchResult]) -> FetchResult:
    """Run a fetcher coroutine to completion from synchronous code.

    When the calling thread already runs an event loop (a sync library driving one,
    such as Playwright's), the coroutine runs on a loop of its own in a helper thread:
    blocking is what the caller asked for, and nesting loops is not possible.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(exchange)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, exchange).result()


# Framing and routing headers are the fetcher's to set; a caller's would contradict them.
_FETCHER_HEADERS = frozenset({"host", "user-agent", "content-length", "transfer-encoding"})


def _request_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    extra: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        if name.lower() in _FETCHER_HEADERS:
            raise ValueError(f"the fetcher sets the {name} header itself")
        if any(ch in name + value for ch in "\r\n\0"):
            raise ValueError(f"the {name} header contains a line break")
        extra.append((name.encode("ascii"), value.encode("ascii")))
    return extra


async def _read_prefix(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The first ``limit`` bytes of a body; the rest is never read (the connection closes)."""
    body = bytearray()
    async for chunk in chunks:
        body += chunk[: limit - len(body)]
        if len(body) >= limit:
            break
    return bytes(body)


def _core_url(url: SafeUrl) -> httpcore.URL:
    return httpcore.URL(
        scheme=url.scheme.encode("ascii"),
        host=url.host.encode("ascii"),
        port=url.port,
        target=url.target.encode("ascii"),
    )


def _redirect_location(response: httpcore.Response) -> str | None:
    if response.status not in _REDIRECT_STATUSES:
        return None
    for name, value in response.headers:
        if name.lower() == b"location":
            return value.decode("latin-1")
    return None


def _header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        if name in _KEPT_HEADERS:
            value = value_bytes.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


@contextmanager
def _translated_errors(url: SafeUrl) -> Iterator[None]:
    """Turn httpcore's exceptions into the fetcher's, with messages for analysts."""
    try:
        yield
    except FetchError:
        raise
    except httpcore.ConnectTimeout:
        raise FetchTimeoutError(f"could not connect to {url.host} in time", url=str(url)) from None
    except httpcore.TimeoutException:
        raise FetchTimeoutError(f"{url.host} stopped responding", url=str(url)) from None
    except httpcore.ConnectError as exc:
        if _caused_by_tls(exc):
            raise TLSError(
                f"secure connection to {url.host} failed (certificate or TLS error: {exc})",
                url=str(url),
            ) from None
        raise ConnectError(f"could not connect to {url.host}: {exc}", url=str(url)) from None
    except httpcore.NetworkError as exc:
        raise ConnectError(f"the connection to {url.host} failed: {exc}", url=str(url)) from None
    except httpcore.ProtocolError as exc:
        raise FetchProtocolError(
            f"{url.host} sent an invalid HTTP response: {exc}", url=str(url)
        ) from None


def _caused_by_tls(exc: BaseException) -> bool:
    # httpcore wraps the ssl error as ConnectError(ssl_error); depending on the code
    # path the original survives as an argument, the cause or the context.
    candidates = (*exc.args, exc.__cause__, exc.__context__)
    return any(isinstance(candidate, ssl.SSLError) for candidate in candidates)
