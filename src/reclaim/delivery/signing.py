"""Webhook signatures: how a platform knows a call came from Reclaim, unaltered and fresh.

The scheme (documented for platforms in ``docs/webhooks.md``)::

    Reclaim-Signature: t=<unix seconds>,v1=<signature>

    signature = lower-case hex of HMAC-SHA256(
        key     = the platform's signing secret, UTF-8 encoded,
        message = ASCII decimal timestamp + "." + the raw request body bytes,
    )

Signing the timestamp together with the body is what makes the replay window
enforceable: an old request cannot be given a new timestamp without the secret.  A
receiver checks the signature with a constant-time comparison, refuses timestamps
more than ``tolerance`` seconds (default 300) from its own clock in either
direction, and remembers the signatures it accepted for that long
(:class:`ReplayGuard`) so a captured request cannot be replayed inside the window.

A header may carry several ``v1=`` values (a sender in the middle of rotating its
secret); it verifies if any one of them does.  Unknown keys (a future ``v2=``) are
ignored, so the scheme can grow without breaking receivers.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import re
import threading
from dataclasses import dataclass

SIGNATURE_HEADER = "Reclaim-Signature"
EVENT_HEADER = "Reclaim-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE = 300

_MAX_HEADER = 4096
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_TIMESTAMP = 10**12
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class SignatureError(ValueError):
    """The request is not a valid, fresh signed call; answer 401."""


class MalformedSignatureError(SignatureError):
    """The signature header is missing, unreadable or lacks ``t=`` or ``v1=``."""


class SignatureMismatchError(SignatureError):
    """No ``v1=`` value matches the body and timestamp under this secret."""


class StaleSignatureError(SignatureError):
    """The timestamp is outside the replay window (too old, or in the future)."""


class ReplayError(ValueError):
    """A correctly signed request that was already accepted once; answer 409."""


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """What :func:`verify` established: the signed timestamp and the matching signature."""

    timestamp: int
    signature: str


def signature(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The ``v1`` value: hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    message = f"{timestamp}.".encode("ascii") + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The ``Reclaim-Signature`` header value for ``body`` sent at ``timestamp``."""
    if not 0 <= timestamp < _MAX_TIMESTAMP:
        raise ValueError("a signature timestamp is Unix seconds, at most 12 digits")
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def verify(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE,
) -> VerifiedSignature:
    """Check a ``Reclaim-Signature`` header against the raw ``body``; return what it proved.

    ``now`` is the receiver's clock in Unix seconds.  Raises a
    :class:`SignatureError` subclass when the header is malformed, no signature
    matches, or the timestamp lies more than ``tolerance`` seconds from ``now``.
    """
    timestamp, candidates = _parse(header)
    expected = signature(secret, body, timestamp)
    # Every candidate is compared (no early exit on the first mismatch), each in
    # constant time, so timing reveals nothing about the expected value.
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    if not any(matches):
        raise SignatureMismatchError("the signature does not match the body and timestamp")
    if abs(now - timestamp) > tolerance:
        direction = "old" if timestamp < now else "far in the future"
        raise StaleSignatureError(
            f"the signature's timestamp is {abs(now - timestamp):.0f} seconds {direction}; "
            f"the window is {tolerance} seconds"
        )
    return VerifiedSignature(timestamp, expected)


def _parse(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise MalformedSignatureError(f"the {SIGNATURE_HEADER} header is missing")
    if len(header) > _MAX_HEADER:
        raise MalformedSignatureError(f"the {SIGNATURE_HEADER} header is too long")
    timestamps: list[str] = []
    candidates: list[str] = []
    for item in header.split(","):
        key, equals, value = item.strip().partition("=")
        if not equals:
            raise MalformedSignatureError(f"{item.strip()!r} is not a key=value pair")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value.lower())
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]):
        raise MalformedSignatureError("the header needs exactly one t=<unix seconds>")
    if not candidates or not all(_HEX_SIGNATURE.fullmatch(c) for c in candidates):
        raise MalformedSignatureError("the header needs v1=<64 hex digits>")
    return int(timestamps[0]), candidates


class ReplayGuard:
    """Remembers accepted signatures for the replay window, for receivers.

    Use after :func:`verify` succeeded::

        verified = verify(secret, body, header, now=time.time())
        guard.check(verified, now=time.time())   # raises ReplayError on a repeat

    A signature needs remembering only while its timestamp is inside the window
    (older ones fail :func:`verify` anyway), so memory is bounded by the number of
    calls in ``tolerance`` seconds.  Give the guard the same tolerance as
    :func:`verify`.  Safe to share between threads.

    Reclaim's own retries are *not* replays: each attempt is signed afresh with a new
    timestamp, so it passes here; it carries the same ``Idempotency-Key``, which is
    what a receiver uses to avoid acting twice on one notice.
    """

    def __init__(self, tolerance: int = DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance
        self._seen: set[str] = set()
        self._expiry: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def check(self, verified: VerifiedSignature, now: float) -> None:
        """Record ``verified``; raise :class:`ReplayError` if it was recorded before."""
        with self._lock:
            self._forget_older_than(now - self.tolerance)
            if verified.signature in self._seen:
                raise ReplayError("this signed request was already received")
            self._seen.add(verified.signature)
            heapq.heappush(self._expiry, (verified.timestamp, verified.signature))

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def _forget_older_than(self, horizon: float) -> None:
        while self._expiry and self._expiry[0][0] < horizon:
            _timestamp, old = heapq.heappop(self._expiry)
            self._seen.discard(old)
