"""Notice email over SMTP (smtplib), with the server's answers sorted into retry or not.

The conversation is driven step by step (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA)
rather than through ``sendmail`` so each reply can be judged where it happens: a 4xx
anywhere is temporary, a 5xx to MAIL or DATA is permanent, and RCPT replies are
collected so that a message refused for every recipient is told apart from one
accepted for some (delivered: not retried, the refused addresses noted on the
receipt).  DATA is driven by hand too, for two reasons: the caller's *commit point*
runs after the body is sent and before the final dot, the last moment at which
nothing has been delivered (see :meth:`SmtpTransport.send`); and the server's final
reply, which names its queue id on most relays, is kept for the attempt log.

Security modes:

- ``starttls`` (the default): upgrade with STARTTLS and verify the server's
  certificate; a server that does not offer STARTTLS is refused, never used in clear;
- ``tls``: implicit TLS from the first byte (port 465);
- ``none``: plain text, for a relay on the same machine.  Credentials are refused in
  this mode unless the host is a loopback address.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, get_args

from reclaim.delivery.message import EmailMessage, build_mime
from reclaim.delivery.transport import (
    DeliveryError,
    DeliveryReceipt,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from reclaim.domain.clock import Clock, system_clock

SmtpSecurity = Literal["none", "starttls", "tls"]
TRANSPORT_NAME = "smtp"
_QUEUE_ID = re.compile(r"(?:queued as|id=)\s*([A-Za-z0-9._-]+)", re.IGNORECASE)
_MAX_DETAIL = 300


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to reach the mail relay.  Built from Settings by the entry point."""

    host: str = "127.0.0.1"
    port: int = 25
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.security not in get_args(SmtpSecurity):
            raise ValueError(f"SMTP security must be none, starttls or tls, not {self.security!r}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"SMTP port {self.port} is out of range")
        if self.timeout <= 0:
            raise ValueError("the SMTP timeout must be positive")
        if (self.username is None) != (self.password is None):
            raise ValueError("an SMTP username and password are set together or not at all")
        if self.username is not None and self.security == "none" and not _is_loopback(self.host):
            raise ValueError(
                f"refusing to send SMTP credentials unencrypted to {self.host}; use starttls or tls"
            )


class SmtpTransport:
    """Sends :class:`EmailMessage` values through one relay; one connection per message.

    ``ssl_context`` verifies the relay's certificate (the system trust store by
    default; tests pass one that trusts their own certificate).  ``clock`` writes
    the Date header.
    """

    name = TRANSPORT_NAME

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self._ssl_context = ssl_context if ssl_context is not None else ssl.create_default_context()
        self._clock = clock

    def send(
        self, message: EmailMessage, *, commit_point: Callable[[], None] | None = None
    ) -> DeliveryReceipt:
        """Deliver ``message``; raise Temporary- or PermanentDeliveryError if not accepted.

        ``commit_point`` is called once the whole message is with the relay and only
        the final ``<CRLF>.<CRLF>`` is left to send: the last moment at which nothing
        has been delivered.  The outbox records "committing" there.  If it raises, the
        dot is never sent, the connection is dropped (so the relay discards the
        message) and its exception propagates unchanged.  A failure after it is
        reported with ``possibly_delivered=True``.
        """
        payload = build_mime(message, date=self._clock()).as_bytes()
        state = _State()
        try:
            with _translated_errors(self.settings, state):
                smtp = self._open()
                try:
                    return self._converse(smtp, message, payload, commit_point, state)
                finally:
                    _hang_up(smtp, state)
        except _CommitPointFailed as failed:
            raise failed.original from None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(
                s.host,
                s.port,
                local_hostname=s.local_hostname,
                timeout=s.timeout,
                context=self._ssl_context,
            )
        return smtplib.SMTP(s.host, s.port, local_hostname=s.local_hostname, timeout=s.timeout)

    def _converse(
        self,
        smtp: smtplib.SMTP,
        message: EmailMessage,
        payload: bytes,
        commit_point: Callable[[], None] | None,
        state: _State,
    ) -> DeliveryReceipt:
        s = self.settings
        smtp.ehlo_or_helo_if_needed()
        if s.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise PermanentDeliveryError(
                    f"the mail relay {s.host}:{s.port} does not offer STARTTLS; notices are "
                    "never sent unencrypted (set the SMTP security to none only for a relay "
                    "on this machine)",
                    transport=TRANSPORT_NAME,
                )
            smtp.starttls(context=self._ssl_context)
            smtp.ehlo()
        if s.username is not None and s.password is not None:
            smtp.login(s.username, s.password)
        code, reply = smtp.mail(message.envelope_from)
        if code != 250:
            raise _refusal(code, reply, f"refused the sender {message.envelope_from}")
        accepted, refused = _recipients(smtp, message.envelope_to)
        if not accepted:
            raise _all_refused(refused)
        code, reply = _data(smtp, payload, commit_point, state)
        if code != 250:
            raise _refusal(code, reply, "refused the message")
        text = _text(reply)
        match = _QUEUE_ID.search(text)
        return DeliveryReceipt(
            transport=TRANSPORT_NAME,
            message_id=message.message_id,
            accepted_at=self._clock(),
            response_code=code,
            remote_id=match.group(1) if match else None,
            detail=text[:_MAX_DETAIL],
            refused_recipients=tuple(address for address, _code, _text in refused),
        )


@dataclass
class _State:
    # While the body is being sent, anything written is message text (a QUIT too).
    in_body: bool = False
    # Once the final dot is on its way, a lost connection may have delivered the
    # message; before it, the relay discards an unfinished one (RFC 5321, 4.1.1.4).
    dot_sent: bool = False


class _CommitPointFailed(Exception):
    """Carries the caller's exception past the translation of network errors."""

    def __init__(self, original: Exception) -> None:
        super().__init__(str(original))
        self.original = original


def _data(
    smtp: smtplib.SMTP,
    payload: bytes,
    commit_point: Callable[[], None] | None,
    state: _State,
) -> tuple[int, bytes]:
    """DATA by hand (smtplib's ``data`` sends body and dot in one write)."""
    code, reply = smtp.docmd("DATA")
    if code != 354:
        raise _refusal(code, reply, "would not take the message")
    state.in_body = True
    smtp.send(_dot_stuffed(payload))
    if commit_point is not None:
        try:
            commit_point()
        except Exception as exc:
            raise _CommitPointFailed(exc) from exc
    state.dot_sent = True
    smtp.send(b".\r\n")
    state.in_body = False
    return smtp.getreply()


def _dot_stuffed(payload: bytes) -> bytes:
    """CRLF line ends, a second dot before every line's leading dot, a final CRLF."""
    data = re.sub(rb"\r\n|\n|\r", b"\r\n", payload)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _recipients(
    smtp: smtplib.SMTP, addresses: tuple[str, ...]
) -> tuple[list[str], list[tuple[str, int, str]]]:
    accepted: list[str] = []
    refused: list[tuple[str, int, str]] = []
    for address in addresses:
        code, reply = smtp.rcpt(address)
        if code in (250, 251):
            accepted.append(address)
        else:
            refused.append((address, code, _text(reply)))
    return accepted, refused


def _all_refused(refused: list[tuple[str, int, str]]) -> DeliveryError:
    summary = "; ".join(f"{address}: {code} {text}" for address, code, text in refused)
    # One temporary refusal is enough to try again: that recipient may accept later.
    temporary = [code for _address, code, _text in refused if 400 <= code < 500]
    if temporary:
        return TemporaryDeliveryError(
            f"the mail relay refused every recipient, some for now ({summary})",
            transport=TRANSPORT_NAME,
            code=temporary[0],
        )
    return PermanentDeliveryError(
        f"the mail relay refused every recipient ({summary})",
        transport=TRANSPORT_NAME,
        code=refused[0][1],
    )


def _refusal(code: int, reply: bytes | str, what: str) -> DeliveryError:
    message = f"the mail relay {what}: {code} {_text(reply)}"
    if 500 <= code < 600:
        return PermanentDeliveryError(message, transport=TRANSPORT_NAME, code=code)
    # 4xx, and smtplib's -1 for a reply it could not read: both may pass next time.
    return TemporaryDeliveryError(message, transport=TRANSPORT_NAME, code=code)


@contextmanager
def _translated_errors(settings: SmtpSettings, state: _State) -> Iterator[None]:
    """Turn smtplib's, ssl's and the socket's exceptions into the delivery errors."""
    where = f"{settings.host}:{settings.port}"
    try:
        yield
    except DeliveryError:
        raise
    except smtplib.SMTPResponseException as exc:
        # A reply with a code (greeting, EHLO, STARTTLS, AUTH, DATA): judged by its class.
        raise _refusal(exc.smtp_code, exc.smtp_error, "answered") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentDeliveryError(
            f"the mail relay {where} does not support what the settings ask for: {exc}",
            transport=TRANSPORT_NAME,
        ) from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise TemporaryDeliveryError(
            f"the mail relay {where} closed the connection: {exc}",
            transport=TRANSPORT_NAME,
            possibly_delivered=state.dot_sent,
        ) from exc
    except smtplib.SMTPException as exc:
        # What remains is smtplib refusing locally, e.g. no AUTH method in common.
        raise PermanentDeliveryError(
            f"cannot send through the mail relay {where}: {exc}", transport=TRANSPORT_NAME
        ) from exc
    except ssl.SSLCertVerificationError as exc:
        raise PermanentDeliveryError(
            f"the mail relay {where} presented a certificate that does not verify "
            f"({exc.verify_message}); fix the relay's certificate or the trust settings",
            transport=TRANSPORT_NAME,
        ) from exc
    except ssl.SSLError as exc:
        raise TemporaryDeliveryError(
            f"the TLS handshake with the mail relay {where} failed: {exc}",
            transport=TRANSPORT_NAME,
        ) from exc
    except TimeoutError as exc:
        raise TemporaryDeliveryError(
            f"the mail relay {where} did not answer in {settings.timeout:g} seconds",
            transport=TRANSPORT_NAME,
            possibly_delivered=state.dot_sent,
        ) from exc
    except OSError as exc:
        raise TemporaryDeliveryError(
            f"could not reach the mail relay {where}: {exc}",
            transport=TRANSPORT_NAME,
            possibly_delivered=state.dot_sent,
        ) from exc


def _hang_up(smtp: smtplib.SMTP, state: _State) -> None:
    # In the middle of the body a QUIT would be read as message text; just drop the
    # connection, which makes the relay discard the unfinished message.
    if state.in_body:
        smtp.close()
        return
    # Otherwise QUIT is a courtesy: the message was accepted (or refused) before it, so
    # a relay that drops the connection here changes nothing.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return reply


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
