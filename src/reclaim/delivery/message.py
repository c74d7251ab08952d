"""What the transports deliver: an email or a webhook call, as plain values.

The notice service renders a notice into one of these; the transports only carry
them.  Both carry a *stable* identity chosen by the caller from the outbox record:
an email's Message-ID and a webhook's idempotency key stay the same on every retry
of one delivery, so a platform that receives a message twice (the worker died after
the server accepted it and before the outbox recorded that) can tell it is the same
message.  :func:`make_message_id` turns an outbox key into a Message-ID.

Values are checked when they are built: a header that could smuggle a line break, an
address that is not one mailbox, a Message-ID that is not ``<left@right>`` never
reach a transport.
"""

from __future__ import annotations

import email.message
import email.policy
import email.utils
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from typing import cast

# SMTP's policy ends lines with CRLF; cte_type="7bit" makes the email package pick
# quoted-printable or base64 for non-ASCII bodies, so the message needs no 8BITMIME
# from the relay.  Non-ASCII headers (zh_TW subjects, display names) are RFC 2047
# encoded by the same policy.
MIME_POLICY = email.policy.SMTP.clone(cte_type="7bit")

_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f\x41-\x7e]+@[A-Za-z0-9.-]+>")
_MESSAGE_ID_KEEP = re.compile(r"[A-Za-z0-9_-]")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
_EVENT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

# Headers the builder writes itself; a caller's extra header may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "sender",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-language",
        "auto-submitted",
        "return-path",
    }
)


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One notice email.

    ``from_addr``, ``reply_to`` and each of ``to_addrs`` are single mailboxes, with an
    optional display name in any language (``"Reclaim 通報 <notices@example.org>"``);
    the addresses themselves must be ASCII, as every relay accepts.  ``message_id``
    is the stable ``<left@right>`` identity from :func:`make_message_id`.
    ``headers`` are extra headers such as ``X-Reclaim-Notice``; ``references`` are
    the Message-IDs of earlier messages in the same thread (a reminder refers to the
    first notice), sent as In-Reply-To and References so mail clients group them.
    ``language`` is a BCP 47 tag (``zh-TW``, ``en``) sent as Content-Language.
    """

    from_addr: str
    to_addrs: tuple[str, ...]
    subject: str
    text_body: str
    html_body: str | None
    message_id: str
    headers: tuple[tuple[str, str], ...] = ()
    reply_to: str | None = None
    language: str | None = None
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _mailbox(self.from_addr, "from_addr")
        if not self.to_addrs:
            raise ValueError("an email needs at least one recipient")
        for address in self.to_addrs:
            _mailbox(address, "to_addrs")
        if self.reply_to is not None:
            _mailbox(self.reply_to, "reply_to")
        _single_line(self.subject, "subject")
        for reference in (self.message_id, *self.references):
            if not _MESSAGE_ID.fullmatch(reference):
                raise ValueError(f"{reference!r} is not a Message-ID of the form <left@right>")
        for name, value in self.headers:
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"the {name} header is set by the builder, not as an extra")
            _single_line(value, name)
        if self.language is not None and not _LANGUAGE_TAG.fullmatch(self.language):
            raise ValueError(f"{self.language!r} is not a language tag such as zh-TW")

    @property
    def envelope_from(self) -> str:
        """The bare address for SMTP's MAIL FROM."""
        return _mailbox(self.from_addr, "from_addr").addr_spec

    @property
    def envelope_to(self) -> tuple[str, ...]:
        """The bare addresses for SMTP's RCPT TO, in order, without repeats."""
        bare = (_mailbox(address, "to_addrs").addr_spec for address in self.to_addrs)
        return tuple(dict.fromkeys(bare))


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """One signed webhook call: ``body`` (JSON) is POSTed to ``url`` as ``event``.

    ``secret`` is the platform's signing secret (see :mod:`reclaim.delivery.webhook`
    for the scheme).  ``idempotency_key`` is the outbox's key for this delivery and
    goes out as the ``Idempotency-Key`` header, the same on every retry.  The URL is
    checked when it is sent, by the same rules the safe fetcher applies.
    """

    url: str
    secret: str = field(repr=False)
    body: bytes = field(repr=False)
    idempotency_key: str
    event: str

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a webhook needs a signing secret")
        if not _IDEMPOTENCY_KEY.fullmatch(self.idempotency_key):
            raise ValueError("an idempotency key is 1-255 visible ASCII characters")
        if not _EVENT.fullmatch(self.event):
            raise ValueError(f"{self.event!r} is not an event name such as notice.sent")
        try:
            json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"a webhook body must be UTF-8 JSON: {exc}") from None


def make_message_id(key: str, domain: str) -> str:
    """A Message-ID for an outbox key: ``make_message_id("notice-42-a1", "reclaim.host")``.

    The result is ``<notice-42-a1@reclaim.host>``.  Letters, digits, ``-`` and ``_``
    are kept; any other character becomes ``=XX`` (its UTF-8 bytes in hex), so the
    mapping is one-to-one (two keys never share a Message-ID) and the result is
    always valid, whatever the key contains.
    """
    if not key:
        raise ValueError("a Message-ID needs a non-empty key")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"{domain!r} is not a domain name")
    left = "".join(
        ch if _MESSAGE_ID_KEEP.fullmatch(ch) else "".join(f"={b:02X}" for b in ch.encode())
        for ch in key
    )
    return f"<{left}@{domain.lower()}>"


def message_id_domain(from_addr: str) -> str:
    """The domain of the sender's address: where a notice's Message-IDs are minted."""
    return _mailbox(from_addr, "from_addr").domain.lower()


def build_mime(message: EmailMessage, *, date: datetime) -> email.message.EmailMessage:
    """The RFC 5322 message: multipart/alternative (text, then HTML) in UTF-8.

    ``date`` (timezone-aware) is written as the Date header; the caller's clock
    decides it.  Every notice is marked ``Auto-Submitted: auto-generated`` (RFC
    3834), which tells well-behaved auto-responders not to answer it.
    """
    if date.tzinfo is None:
        raise ValueError("the Date of a message must be timezone-aware")
    mime = email.message.EmailMessage(policy=MIME_POLICY)
    mime["From"] = message.from_addr
    mime["To"] = ", ".join(message.to_addrs)
    if message.reply_to is not None:
        mime["Reply-To"] = message.reply_to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.format_datetime(date)
    mime["Message-ID"] = message.message_id
    if message.references:
        mime["In-Reply-To"] = message.references[-1]
        mime["References"] = " ".join(message.references)
    mime["Auto-Submitted"] = "auto-generated"
    for name, value in message.headers:
        mime[name] = value
    mime["MIME-Version"] = "1.0"
    if message.html_body is None:
        mime.set_content(message.text_body, subtype="plain", charset="utf-8")
    else:
        # Parts are built as MIMEPart rather than with add_alternative(), which would
        # give each part a MIME-Version header of its own.
        mime.make_alternative()
        for body, subtype in ((message.text_body, "plain"), (message.html_body, "html")):
            part = email.message.MIMEPart(policy=MIME_POLICY)
            part.set_content(body, subtype=subtype, charset="utf-8")
            # typeshed types attach() for the message's own class; any MIMEPart works.
            mime.attach(cast(email.message.EmailMessage, part))
    # Last: set_content() and make_alternative() move or drop Content-* headers.
    if message.language is not None:
        mime["Content-Language"] = message.language
    return mime


def _mailbox(value: str, name: str) -> Address:
    _single_line(value, name)
    header = MIME_POLICY.header_factory("To", value)
    addresses = header.addresses
    if header.defects or len(addresses) != 1:
        raise ValueError(f"{name}: {value!r} is not a single email address")
    address: Address = addresses[0]
    if not (address.username and address.domain and address.addr_spec.isascii()):
        raise ValueError(f"{name}: {value!r} needs an ASCII address such as abuse@example.com")
    return address


def _single_line(value: str, name: str) -> None:
    # Not only CR and LF: the email package splits headers wherever str.splitlines()
    # would (form feed, U+2028, ...), and no header value needs a control character.
    if any(ch != "\t" and unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value):
        raise ValueError(f"{name} must not contain line breaks or control characters")
