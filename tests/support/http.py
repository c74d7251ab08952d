"""Test helpers for the fetcher: loopback servers, a scripted resolver, a guard backend.

Nothing here ever sends a packet off the machine: servers listen on 127.0.0.1, names
resolve only through :class:`ScriptedResolver`, and every fetcher built for tests dials
through :class:`LoopbackOnlyBackend`, which refuses (and records) any attempt to reach
a non-loopback address, so a fetcher bug fails the test instead of touching a network.
"""

from __future__ import annotations

import datetime as dt
import http.server
import io
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpcore
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from reclaim.fetching import ResolutionError, SafeFetcher
from reclaim.fetching.addresses import IPAddress

Route = Callable[["Handler"], None]
#: make_fetcher(allow=[...], **FetchPolicy fields, ssl_context=...) -> SafeFetcher
FetcherFactory = Callable[..., SafeFetcher]
_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked bodies and keep-alive need 1.1
    server: LoopbackServer

    def do_GET(self) -> None:
        self.server.record(self)
        route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            send(self, 404, b"not here", "text/plain")
        else:
            route(self)

    def do_POST(self) -> None:
        # Webhooks leave through SafeFetcher.post; routes answer POSTs as they do GETs.
        self.server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


def send(
    handler: Handler,
    status: int,
    body: bytes = b"",
    content_type: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    handler.send_response(status)
    if content_type is not None:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str, status: int = 302) -> Route:
    return lambda handler: send(handler, status, headers=[("Location", location)])


def content(body: bytes, content_type: str | None, status: int = 200) -> Route:
    return lambda handler: send(handler, status, body, content_type)


class LoopbackServer(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that counts connections and records requests."""

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.routes: dict[str, Route] = {}
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.bodies: list[bytes] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = "/", scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        connection, address = super().get_request()
        with self._lock:
            self.connections += 1
        return connection, address

    def record(self, handler: Handler) -> None:
        with self._lock:
            self.requests.append((handler.path, dict(handler.headers.items())))

    def handle_error(self, request: object, client_address: object) -> None:
        # The fetcher hangs up on endless and oversized bodies by design; the broken
        # pipe that follows on this side is expected, not a failure.
        pass

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join()


@dataclass
class ScriptedResolver:
    """Answers from a table; a list of answers per name is consumed one per call."""

    answers: dict[str, list[Sequence[str]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def set(self, name: str, *answers: Sequence[str]) -> ScriptedResolver:
        self.answers[name] = list(answers)
        return self

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        self.calls.append(host)
        script = self.answers.get(host)
        if not script:
            raise ResolutionError(f"test resolver has no answer for {host!r}")
        answer = script.pop(0) if len(script) > 1 else script[0]
        return [ipaddress.ip_address(a) for a in answer]


class LoopbackOnlyBackend(httpcore.AsyncNetworkBackend):
    """Records every dial; refuses anything that is not loopback."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()
        self.attempts: list[tuple[str, int]] = []
        self.violations: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[tuple[int, int, int]] | None = None,  # type: ignore[override]
    ) -> httpcore.AsyncNetworkStream:
        self.attempts.append((host, port))
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None  # a host *name* here would mean the fetcher skipped pinning
        if address is None or not any(address in net for net in _LOOPBACK):
            self.violations.append((host, port))
            raise httpcore.ConnectError(f"test guard: refused to dial {host}:{port}")
        return await self._inner.connect_tcp(host, port, timeout=timeout)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[tuple[int, int, int]] | None = None,  # type: ignore[override]
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("test guard: no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def png_bytes(
    size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 90)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class TestCertificates:
    """A throwaway CA and a server certificate for ``hostname``."""

    __test__ = False  # not a pytest test class, despite the name

    server_context: ssl.SSLContext
    client_context: ssl.SSLContext


def make_certificates(hostname: str, directory: Path) -> TestCertificates:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Reclaim test CA")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    cert = (
        _builder(name, ca_name, key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*_write_pem_pair(cert, key, directory))
    client = ssl.create_default_context(
        cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    )
    return TestCertificates(server, client)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _write_pem_pair(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, directory: Path
) -> tuple[Path, Path]:
    # ssl loads a certificate chain only from files; these hold throwaway test keys.
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
