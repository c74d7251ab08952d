"""An httpcore network backend that connects only to addresses already checked.

httpcore hands its network backend the URL's host name; a normal backend would
resolve it again, which is the window DNS rebinding uses.  This backend never
resolves: the fetcher *pins* each (host, port) to the addresses it resolved and
checked, and ``connect_tcp`` dials those IPs.  The host name still reaches the
server where it belongs: httpcore sends it as the Host header and uses it for SNI and
certificate verification in ``start_tls``, which happens on the stream returned here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import httpcore

from reclaim.fetching.addresses import IPAddress

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dials pinned addresses through ``inner`` (httpcore's AnyIO backend by default)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()
        self._pins: dict[tuple[str, int], tuple[IPAddress, ...]] = {}
        self._connected: dict[tuple[str, int], IPAddress] = {}

    def pin(self, host: str, port: int, addresses: Sequence[IPAddress]) -> None:
        if not addresses:
            raise ValueError("cannot pin a host to no addresses")
        self._pins[(host, port)] = tuple(addresses)

    def connected_address(self, host: str, port: int) -> IPAddress | None:
        """The address the most recent connection to (host, port) went to."""
        return self._connected.get((host, port))

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._pins.get((host, port))
        if addresses is None:
            # Unreachable through the fetcher; refusing is the safe answer if a future
            # change ever asks for a host it did not check.
            raise httpcore.ConnectError(f"refusing to connect to unchecked host {host}:{port}")
        options = list(socket_options) if socket_options is not None else None
        last_error: Exception = httpcore.ConnectError(f"no addresses pinned for {host}")
        # Try each checked address in turn, as getaddrinfo-based clients do; all of
        # them passed the address policy, so any one is acceptable.
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            self._connected[(host, port)] = address
            return stream
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the safe fetcher never connects to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
