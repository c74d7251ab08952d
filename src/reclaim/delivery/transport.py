"""The one protocol every notice transport follows, its errors, and retry timing.

A transport hands one message to one remote system and says how that went, in terms
the outbox can act on:

- it returns a :class:`DeliveryReceipt` when the remote side *accepted* the message
  (an SMTP server's final 250, a webhook receiver's 2xx);
- it raises :class:`TemporaryDeliveryError` when trying again later may succeed
  (connection refused, timeouts, SMTP 4xx, HTTP 5xx, 408 and 429);
- it raises :class:`PermanentDeliveryError` when it will not (SMTP 5xx for every
  recipient, HTTP 4xx, a destination the SSRF guard refuses, bad configuration), so
  the notice needs a person rather than another attempt.

Transports never retry by themselves and never sleep: the outbox records every
attempt and schedules the next one with :class:`RetryPolicy`, so a crashed worker
resumes from the record instead of from a loop's local variables.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

MessageT_contra = TypeVar("MessageT_contra", contravariant=True)


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What the remote side said when it accepted a message; kept in the attempt log.

    ``message_id`` is the Message-ID (email) or idempotency key (webhook) that was
    sent, so a receipt can be matched to its outbox record.  ``remote_id`` is the
    remote side's own reference when it gave one (an SMTP queue id such as Postfix's
    ``queued as 4XyZ1``).  ``detail`` is the server's reply, shortened for the log.
    ``refused_recipients`` lists addresses an SMTP server refused while accepting the
    message for others: the message *was* delivered, so it is not retried, but
    someone should correct those addresses.
    """

    transport: str
    message_id: str
    accepted_at: datetime
    response_code: int
    remote_id: str | None = None
    detail: str = ""
    refused_recipients: tuple[str, ...] = ()


class DeliveryError(Exception):
    """Base class: a message was not accepted.

    ``code`` is the remote status when there was one (SMTP reply code, HTTP status).
    ``possibly_delivered`` is True when the failure came after the whole message was
    handed over (a timeout waiting for the final reply): the remote side may have
    it, which is why every retry carries the same Message-ID / idempotency key.
    """

    def __init__(
        self,
        message: str,
        *,
        transport: str,
        code: int | None = None,
        possibly_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.transport = transport
        self.code = code
        self.possibly_delivered = possibly_delivered


class TemporaryDeliveryError(DeliveryError):
    """Try again later.  ``retry_after`` is the server's own hint, in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        transport: str,
        code: int | None = None,
        possibly_delivered: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, transport=transport, code=code, possibly_delivered=possibly_delivered
        )
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: the destination refused, or the configuration is wrong."""


class Transport(Protocol[MessageT_contra]):
    """Delivers one kind of message: ``Transport[EmailMessage]``, ``Transport[WebhookMessage]``.

    ``send`` blocks until the remote side has answered (or the transport's timeout
    passed) and either returns a receipt or raises a :class:`DeliveryError` subclass;
    any other exception is a bug.  Sending the same message twice sends it twice:
    exactly-once is the outbox's job, which the stable Message-ID / idempotency key
    carried by every message makes possible on the receiving side too.

    ``commit_point`` is called at the last moment before the remote side can have the
    message (an email's final ".", a webhook request about to go); the outbox records
    its point of no return there.  If it raises, nothing is sent and its exception
    propagates unchanged.
    """

    def send(
        self, message: MessageT_contra, *, commit_point: Callable[[], None] | None = None
    ) -> DeliveryReceipt: ...


# --- retry timing ---------------------------------------------------------------------

# 2**64 times any sensible base is past every cap; stopping the exponent there keeps
# the arithmetic finite for absurd attempt numbers.
_MAX_EXPONENT = 64
_SYSTEM_RANDOM = random.SystemRandom()
#: The shortest wait :meth:`RetryPolicy.delay` returns (see the comment there).
MIN_RETRY_SECONDS = 1.0


def backoff_ceiling(attempt: int, base: float, cap: float) -> float:
    """The longest wait after the ``attempt``-th failure: ``min(cap, base * 2**(attempt-1))``."""
    if attempt < 1:
        raise ValueError("attempt counts from 1 (the first attempt that failed)")
    if base <= 0 or cap < base:
        raise ValueError("backoff needs 0 < base <= cap")
    return min(cap, base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))


def next_delay(attempt: int, base: float, cap: float, jitter: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt, with full jitter.

    Exponential backoff capped at ``cap``, then "full jitter": a uniform draw from
    ``[0, ceiling]``.  Full jitter spreads the retries of many notices that failed
    together (a platform's outage) instead of bringing them back in one burst.
    ``jitter`` is the source of randomness; pass a seeded ``random.Random`` for a
    deterministic schedule.  By default the system's random source is used.
    """
    ceiling = backoff_ceiling(attempt, base, cap)
    source = jitter if jitter is not None else _SYSTEM_RANDOM
    return source.uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try a failed delivery again, and when to stop.  Built from Settings."""

    base_seconds: float = 60.0
    cap_seconds: float = 6 * 60 * 60.0
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("retry timing needs 0 < base_seconds <= cap_seconds")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def exhausted(self, attempts_made: int) -> bool:
        """Whether ``attempts_made`` attempts are all this policy allows."""
        return attempts_made >= self.max_attempts

    def delay(
        self,
        attempt: int,
        error: TemporaryDeliveryError | None = None,
        *,
        jitter: random.Random | None = None,
    ) -> float:
        """Seconds to wait after the ``attempt``-th failure.

        A server's ``Retry-After`` is honoured when it asks for longer than the drawn
        delay, up to the cap: a platform that says "in an hour" gets at least an hour,
        but one that says "next week" cannot park a legal deadline for a week.
        """
        delay = next_delay(attempt, self.base_seconds, self.cap_seconds, jitter)
        if error is not None and error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self.cap_seconds))
        # Webhook signatures carry whole seconds: a retry within the same second as the
        # attempt before would carry the very same signature, and a receiver's replay
        # guard would rightly refuse it.  Full jitter alone can draw ~0, so: a floor.
        return max(delay, MIN_RETRY_SECONDS)
