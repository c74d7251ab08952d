"""A platform's webhook receiver on loopback, written the way docs/webhooks.md says.

It verifies every call with :func:`reclaim.delivery.signing.verify` (401 when the
signature is bad, stale or malformed), rejects replays with a
:class:`~reclaim.delivery.signing.ReplayGuard` (409), and acts once per
``Idempotency-Key`` (a repeat is acknowledged with 200 and not acted on again).
A test can script the answer given after verification (500, 400, 429, a redirect)
or a delay before answering.
"""

from __future__ import annotations

import http.client
import http.server
import json
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from reclaim.delivery.signing import ReplayError, ReplayGuard, SignatureError, verify

SECRET = "whsec_test_4f1d9c0e6a7b48e2a3c5d7f9b1e3a5c7"
PATH = "/hooks/reclaim"


@dataclass(frozen=True)
class Call:
    """One request as it arrived, and the status it was answered with."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, headers, reply = self.server.judge(
            self.headers.get("Reclaim-Signature"), body, self.headers.get("Idempotency-Key", "")
        )
        self.server.record(Call(self.path, dict(self.headers.items()), body, status))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


class WebhookReceiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret: str = SECRET, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.secret = secret
        self.guard = ReplayGuard()
        self.answer: Answer | None = None
        self.delay = 0.0
        self.calls: list[Call] = []
        self.acted_on: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = PATH, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def judge(
        self, header: str | None, body: bytes, key: str
    ) -> tuple[int, Iterable[tuple[str, str]], bytes]:
        if self.delay:
            time.sleep(self.delay)
        try:
            verified = verify(self.secret, body, header, now=time.time())
        except SignatureError as exc:
            return 401, (), _json({"error": str(exc)})
        try:
            self.guard.check(verified, now=time.time())
        except ReplayError as exc:
            return 409, (), _json({"error": str(exc)})
        if self.answer is not None:
            return self.answer.status, self.answer.headers, self.answer.body
        with self._lock:
            duplicate = key in self.acted_on
            self.acted_on.setdefault(key, body)
        return 200, (), _json({"received": key, "duplicate": duplicate})

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (the timeout test) leaves a broken pipe here; expected.
        pass

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()


def post_raw(receiver: WebhookReceiver, headers: dict[str, str], body: bytes) -> int:
    """POST exactly these bytes and headers, as an attacker replaying a capture would."""
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
    try:
        connection.request("POST", PATH, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _json(value: object) -> bytes:
    return json.dumps(value).encode()
