"""Signed webhooks: a notice POSTed as JSON to the platform's endpoint.

Every call carries::

    Content-Type: application/json
    Reclaim-Event: notice.sent                 (the message's event name)
    Idempotency-Key: <the outbox's key>        (the same on every retry)
    Reclaim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">

(the signature scheme, :func:`sign`, :func:`verify` and :class:`ReplayGuard` live in
:mod:`reclaim.delivery.signing` and are re-exported here).

The POST goes out through the safe fetcher (:meth:`SafeFetcher.post`), so a webhook
URL is held to the same rules as a reported URL: private, loopback and other
non-public destinations are refused unless the caller's allow-list admits them, the
host is resolved once and the connection pinned to the checked address, and time is
capped.  Redirects are not followed: a POST that moved is a configuration to fix,
not something to chase.  Plain ``http://`` is refused unless the transport is built
with ``allow_plain_http`` (development and tests), because a notice names the URLs
of abuse material and must not cross a network readable.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from datetime import datetime

from reclaim.delivery.message import WebhookMessage
from reclaim.delivery.signing import (
    DEFAULT_TOLERANCE,
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    MalformedSignatureError,
    ReplayError,
    ReplayGuard,
    SignatureError,
    SignatureMismatchError,
    StaleSignatureError,
    VerifiedSignature,
    sign,
    verify,
)
from reclaim.delivery.transport import (
    DeliveryError,
    DeliveryReceipt,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import (
    BlockedAddressError,
    BlockedSchemeError,
    ConnectError,
    FetchError,
    FetchProtocolError,
    FetchResult,
    FetchTimeoutError,
    InvalidUrlError,
    ResolutionError,
    SafeFetcher,
    SafeUrl,
    TLSError,
)

TRANSPORT_NAME = "webhook"
#: Statuses worth another try: the receiver timed out, is rate-limiting, or failed.
_TEMPORARY_STATUSES = frozenset({408, 425, 429})
_MAX_DETAIL = 300

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_HEADER",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "MalformedSignatureError",
    "ReplayError",
    "ReplayGuard",
    "SignatureError",
    "SignatureMismatchError",
    "StaleSignatureError",
    "VerifiedSignature",
    "WebhookTransport",
    "sign",
    "verify",
]


class WebhookTransport:
    """POSTs :class:`WebhookMessage` values through a :class:`SafeFetcher`.

    The fetcher's policy decides the timeouts, the response size kept and which
    non-public addresses (if any) are allowed; build it with
    :func:`reclaim.delivery.factory.webhook_fetch_policy`.  ``clock`` supplies the
    signature's timestamp and the receipt's time.
    """

    name = TRANSPORT_NAME

    def __init__(
        self,
        fetcher: SafeFetcher,
        *,
        clock: Clock = system_clock,
        allow_plain_http: bool = False,
    ) -> None:
        self._fetcher = fetcher
        self._clock = clock
        self._allow_plain_http = allow_plain_http

    def send(
        self, message: WebhookMessage, *, commit_point: Callable[[], None] | None = None
    ) -> DeliveryReceipt:
        """Deliver ``message``; raise Temporary- or PermanentDeliveryError if not accepted.

        ``commit_point`` is called just before the request goes out (see Transport).
        """
        self._check_url(message.url)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/plain;q=0.5, */*;q=0.1",
            EVENT_HEADER: message.event,
            IDEMPOTENCY_HEADER: message.idempotency_key,
            SIGNATURE_HEADER: sign(message.secret, message.body, int(self._clock().timestamp())),
        }
        if commit_point is not None:
            commit_point()
        try:
            result = self._fetcher.post_sync(message.url, message.body, headers=headers)
        except FetchError as exc:
            raise _translated(exc) from exc
        return self._judge(result, message)

    def _check_url(self, url: str) -> None:
        try:
            parsed = SafeUrl.parse(url)
        except FetchError as exc:
            raise PermanentDeliveryError(
                f"the webhook URL is not usable: {exc}", transport=TRANSPORT_NAME
            ) from exc
        if parsed.scheme != "https" and not self._allow_plain_http:
            raise PermanentDeliveryError(
                f"the webhook URL {parsed} is not https; notices are only sent encrypted",
                transport=TRANSPORT_NAME,
            )

    def _judge(self, result: FetchResult, message: WebhookMessage) -> DeliveryReceipt:
        status = result.status_code
        detail = result.content[:_MAX_DETAIL].decode("utf-8", "replace")
        where = result.url
        if 200 <= status < 300:
            return DeliveryReceipt(
                transport=TRANSPORT_NAME,
                message_id=message.idempotency_key,
                accepted_at=self._clock(),
                response_code=status,
                detail=detail,
            )
        if status in _TEMPORARY_STATUSES or status >= 500:
            raise TemporaryDeliveryError(
                f"the webhook at {where} answered {status}; will try again ({detail})",
                transport=TRANSPORT_NAME,
                code=status,
                retry_after=_retry_after(result.headers.get("retry-after"), self._clock()),
            )
        if 300 <= status < 400:
            location = result.headers.get("location", "elsewhere")
            raise PermanentDeliveryError(
                f"the webhook at {where} redirects ({status}) to {location}; webhooks do not "
                "follow redirects, so the platform's webhook URL needs correcting",
                transport=TRANSPORT_NAME,
                code=status,
            )
        raise PermanentDeliveryError(
            f"the webhook at {where} refused the notice with {status} ({detail})",
            transport=TRANSPORT_NAME,
            code=status,
        )


def _translated(exc: FetchError) -> DeliveryError:
    if isinstance(exc, InvalidUrlError | BlockedSchemeError | BlockedAddressError):
        # Includes BlockedPortError: the destination is one Reclaim must not call.
        return PermanentDeliveryError(
            f"the webhook destination is refused: {exc}", transport=TRANSPORT_NAME
        )
    if isinstance(exc, TLSError):
        # A certificate that does not verify is fixed by a person, not by waiting.
        return PermanentDeliveryError(
            f"the webhook endpoint's TLS failed: {exc}", transport=TRANSPORT_NAME
        )
    if isinstance(exc, ResolutionError | ConnectError):
        return TemporaryDeliveryError(
            f"could not reach the webhook endpoint: {exc}", transport=TRANSPORT_NAME
        )
    if isinstance(exc, FetchTimeoutError | FetchProtocolError):
        # The request may have arrived before things went wrong; the retry carries the
        # same Idempotency-Key, so the receiver can tell.
        return TemporaryDeliveryError(
            f"the webhook call failed: {exc}", transport=TRANSPORT_NAME, possibly_delivered=True
        )
    return TemporaryDeliveryError(f"the webhook call failed: {exc}", transport=TRANSPORT_NAME)


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from ``now`` that a Retry-After header asks for (delta-seconds or a date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
