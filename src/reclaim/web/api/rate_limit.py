"""Per-key token buckets: in this process, or in Redis shared by every process.

Each key may send ``burst`` requests at once and ``rate`` per second after that.
Without Redis the buckets are per process (the embedded deployment runs one).  When
``RECLAIM_REDIS_URL`` is set, :class:`RedisTokenBuckets` keeps each bucket in Redis and
updates it in one Lua script (atomic, on Redis's own clock), so any number of server
processes enforce one limit, at the cost of one round trip (~0.1 ms on loopback) per
request.  If Redis does not answer, the process falls back to its own buckets (a
warning is logged) rather than refusing every partner.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger(__name__)


class Buckets(Protocol):
    def take(self, key: int) -> float: ...


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


_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'as_of')
local tokens = tonumber(state[1]) or burst
local as_of = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - as_of) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
           'as_of', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""


class RedisTokenBuckets:
    """The same buckets, in Redis: one limit across every server process."""

    def __init__(self, url: str, rate: float, burst: int, *, prefix: str = "reclaim") -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._client.register_script(_TAKE)
        self._prefix = f"{prefix}:api-rate:"
        self._fallback = TokenBuckets(rate, burst)

    def take(self, key: int) -> float:
        try:
            answer = self._script(keys=[f"{self._prefix}{key}"], args=[self.rate, self.burst])
        except redis.RedisError as exc:
            log.warning("rate limits fall back to this process: Redis failed (%s)", exc)
            return self._fallback.take(key)
        return float(answer)


def make_buckets(redis_url: str | None, rate: float, burst: int, *, prefix: str) -> Buckets:
    """Redis-shared buckets when Redis is configured, else this process's own."""
    if redis_url:
        return RedisTokenBuckets(redis_url, rate, burst, prefix=prefix)
    return TokenBuckets(rate, burst)
