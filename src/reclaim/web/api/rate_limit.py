"""Per-key token buckets, in memory in this process.

Each key may send ``burst`` requests at once and ``rate`` per second after that.  The
buckets are per process (the embedded deployment runs one): with several server
processes each allows the full rate, which docs/configuration.md tells operators to
divide.  A shared store (Redis) would make the limit global at the cost of a round
trip per request; the partner API's own target is a thousand requests a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBuckets:
    """``take(key)`` returns 0.0 when the request may go ahead, else seconds to wait."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, as of)
        self._lock = threading.Lock()

    def take(self, key: int) -> float:
        with self._lock:
            now = self._clock()
            tokens, as_of = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - as_of) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
