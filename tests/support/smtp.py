"""Mail servers on loopback for the SMTP transport's tests.

:class:`LoopbackSmtp` is aiosmtpd's threaded controller on 127.0.0.1 and a free port,
with a :class:`RecordingHandler` that keeps what it accepted and can be told to refuse
(451, 550, ...).  :class:`ScriptedSmtp` is a bare socket server for what aiosmtpd will
not do on purpose: greet with 421, say nothing at all, or hang up after the message
was sent and before the final reply.  :func:`self_signed` makes a throwaway
certificate for 127.0.0.1 with ``cryptography``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.message
import email.policy
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVER_NAME = "mx.reclaim-test.org"
QUEUE_ID = "4XyZ9Q"


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    tls: bool
    authenticated_as: str | None

    def parsed(self) -> email.message.EmailMessage:
        message = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        return message


@dataclass
class RecordingHandler:
    """Accepts mail and records it, unless told to answer otherwise.

    ``rcpt_replies`` maps a recipient to the reply it gets (e.g. ``"550 5.1.1 no
    such user"``); ``data_reply`` replaces the final reply to DATA.
    """

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        assert isinstance(envelope.content, bytes)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=envelope.content,
                # session.ssl is set by STARTTLS; implicit TLS shows on the transport.
                tls=session.ssl is not None
                or (
                    server.transport is not None
                    and server.transport.get_extra_info("ssl_object") is not None
                ),
                authenticated_as=login,
            )
        )
        return f"250 2.0.0 Ok: queued as {QUEUE_ID}"


class PasswordCheck:
    """An aiosmtpd authenticator that knows one user."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()

    def __call__(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == self.username
            and data.password == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


class LoopbackSmtp(Controller):
    """aiosmtpd on 127.0.0.1, on whatever port the system hands out."""

    def __init__(self, handler: RecordingHandler, **kwargs: Any) -> None:
        super().__init__(
            handler,
            hostname="127.0.0.1",
            port=0,
            server_hostname=SERVER_NAME,
            ready_timeout=10.0,
            **kwargs,
        )

    def _trigger_server(self) -> None:
        # Port 0 asks the system for a free port; read it back before the controller
        # connects to check the server is up.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class ScriptedSmtp:
    """A one-connection-at-a-time SMTP imitation on loopback, for broken servers.

    ``mode`` is ``"busy"`` (greet with 421 and hang up), ``"silent"`` (accept and say
    nothing) or ``"vanish"`` (accept everything up to the end of DATA, then hang up
    without the final reply).
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.messages_sent = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self) -> ScriptedSmtp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _address = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                self._converse(connection)

    def _converse(self, connection: socket.socket) -> None:
        if self.mode == "busy":
            connection.sendall(b"421 4.3.2 too busy, come back later\r\n")
            return
        if self.mode == "silent":
            self._stop.wait(5)
            return
        connection.sendall(f"220 {SERVER_NAME} ESMTP\r\n".encode())
        stream = connection.makefile("rb")
        while line := stream.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                connection.sendall(f"250 {SERVER_NAME}\r\n".encode())
            elif verb == b"DATA":
                connection.sendall(b"354 go ahead\r\n")
                while stream.readline() not in (b".\r\n", b""):
                    pass
                self.messages_sent += 1
                return  # the whole message arrived; hang up before saying 250
            else:
                connection.sendall(b"250 OK\r\n")


@dataclass(frozen=True)
class SelfSigned:
    server_context: ssl.SSLContext
    client_context: ssl.SSLContext


def self_signed(directory: Path) -> SelfSigned:
    """A self-signed certificate for 127.0.0.1 / localhost, and contexts around it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cadata=cert_pem.decode("ascii"))
    return SelfSigned(server, client)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
