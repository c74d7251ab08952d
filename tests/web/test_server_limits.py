"""Bounded requests at the server: each oversized or slow request is refused early, and
/healthz keeps answering in under a second while all of them run at once.

The server is the one ``reclaim serve`` runs (web.server.server_config) on loopback.
Attackers connect from other loopback addresses (127.0.1.x) so that the per-client
connection limit they trigger is theirs, not the health checker's (127.0.0.1).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from huey import MemoryHuey

from reclaim.migrations import upgrade
from reclaim.storage.db import make_engine
from reclaim.web.app import create_app
from reclaim.web.server import server_config
from tests.support.settings import make_settings

HEADER_TIMEOUT = 1.0
PER_CLIENT = 8
BIG_HEADER = 64 * 1024 * 1024


@dataclass
class Server:
    port: int

    def connect(self, source: str) -> socket.socket:
        sock = socket.socket()
        sock.bind((source, 0))
        sock.settimeout(10)
        sock.connect(("127.0.0.1", self.port))
        return sock


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(
        tmp_path,
        server_header_timeout_seconds=HEADER_TIMEOUT,
        server_max_connections_per_client=PER_CLIENT,
        log_level="ERROR",
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    app = create_app(settings, huey=MemoryHuey("limits", immediate=True))
    running = uvicorn.Server(server_config(settings, app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        time.sleep(0.05)
    assert running.started
    yield Server(port)
    running.should_exit = True
    thread.join(timeout=10)


def status_of(sock: socket.socket) -> int | None:
    """The status code of the server's answer, or None if it closed without one."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    if not data.startswith(b"HTTP/1.1 "):
        return None
    return int(data.split(b" ", 2)[1])


def big_header(server: Server, source: str) -> tuple[int | None, int]:
    """Stream a 64 MB header; return the answer and how many bytes went out before the
    server stopped reading."""
    sock = server.connect(source)
    sent = 0
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: reclaim\r\nX-Big: ")
        chunk = b"a" * 65536
        while sent < BIG_HEADER:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    return status_of(sock), sent


def many_headers(server: Server, source: str) -> int | None:
    sock = server.connect(source)
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(500))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: reclaim\r\n" + fields + b"\r\n")
    return status_of(sock)


def long_request_line(server: Server, source: str) -> int | None:
    sock = server.connect(source)
    sock.sendall(b"GET /" + b"a" * 12000 + b" HTTP/1.1\r\nHost: reclaim\r\n\r\n")
    return status_of(sock)


def slow_headers(server: Server, source: str) -> tuple[int | None, float]:
    """A byte every 100 ms (slowloris); return the answer and how long it took."""
    sock = server.connect(source)
    started = time.monotonic()
    sock.sendall(b"GET /healthz HTTP/1.1\r\n")
    try:
        for _ in range(100):
            sock.sendall(b"X")
            time.sleep(0.1)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return status_of(sock), time.monotonic() - started


def connection_flood(server: Server, source: str) -> list[int | None]:
    """Open twice the per-client limit from one address and hold them."""
    held = [server.connect(source) for _ in range(PER_CLIENT)]
    extra = [server.connect(source) for _ in range(PER_CLIENT)]
    refused = [status_of(sock) for sock in extra]
    time.sleep(0.3)
    for sock in held:
        sock.close()
    return refused


def test_oversized_and_slow_requests_are_refused_and_healthz_stays_fast(server: Server) -> None:
    attacks: list[tuple[str, Callable[[], object]]] = [
        *[(f"big-{i}", lambda i=i: big_header(server, f"127.0.1.{i + 1}")) for i in range(20)],
        *[(f"slow-{i}", lambda i=i: slow_headers(server, f"127.0.2.{i + 1}")) for i in range(20)],
        ("many-headers", lambda: many_headers(server, "127.0.3.1")),
        ("long-line", lambda: long_request_line(server, "127.0.3.2")),
        ("flood", lambda: connection_flood(server, "127.0.3.3")),
    ]
    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=len(attacks)) as pool:
        futures = {name: pool.submit(attack) for name, attack in attacks}
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as checker:
            while not all(future.done() for future in futures.values()):
                started = time.monotonic()
                assert checker.get("/healthz").status_code == 200
                latencies.append(time.monotonic() - started)
                time.sleep(0.05)
        results = {name: future.result() for name, future in futures.items()}

    assert len(latencies) > 10
    assert max(latencies) < 1.0, f"/healthz took up to {max(latencies):.2f} s under attack"
    for i in range(20):
        status, sent = results[f"big-{i}"]  # type: ignore[misc]
        assert status == 400
        assert sent < 16 * 1024 * 1024, f"the server read {sent} bytes of one header"
        slow_status, took = results[f"slow-{i}"]  # type: ignore[misc]
        assert slow_status == 408
        assert HEADER_TIMEOUT <= took < HEADER_TIMEOUT + 3
    assert results["many-headers"] == 431
    assert results["long-line"] == 414
    assert results["flood"] == [429] * PER_CLIENT


def test_ordinary_requests_and_keep_alive_still_work(server: Server) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
        for _ in range(3):  # one kept-alive connection, several requests
            assert client.get("/healthz").status_code == 200
        assert client.get("/", headers={f"X-F{i}": "v" for i in range(50)}).status_code == 200


def test_forwarded_headers_are_believed_only_from_named_proxies(tmp_path: Path) -> None:
    plain = server_config(make_settings(tmp_path), object(), host="127.0.0.1", port=1)
    assert plain.proxy_headers is False
    proxied = server_config(
        make_settings(tmp_path, server_trusted_proxies=["10.0.0.5"]),
        object(),
        host="127.0.0.1",
        port=1,
    )
    assert proxied.proxy_headers is True and proxied.forwarded_allow_ips == ["10.0.0.5"]
