"""Who is calling: the API key in ``Authorization: Bearer``, its scope, its rate.

``caller(Scope.MATCH)`` is a dependency that answers 401 (no key, or an invalid,
expired or revoked one), 403 (a key without that scope) or 429 (over the key's rate),
and otherwise gives the handler the :class:`~reclaim.partners.keys.Caller`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from reclaim.partners.domain import Scope
from reclaim.partners.keys import LAST_USED_RESOLUTION, AuthError, Caller, authenticate, note_use
from reclaim.storage.types import utcnow
from reclaim.web.api.deps import run_read
from reclaim.web.api.errors import ApiError
from reclaim.web.api.rate_limit import Buckets, make_buckets

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="A partner API key: `Authorization: Bearer rcl_<prefix>_<secret>`.",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="reclaim"'}
_limiter_lock = threading.Lock()


class KeyCache:
    """Checked keys, trusted for ``ttl`` seconds: a request then costs no query.

    Keyed by the presented text (a wrong secret is never cached; only successful checks
    are).  A key revoked elsewhere keeps working in this process for at most ``ttl``.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def get(self, presented: str) -> Caller | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            found = self._entries.get(presented)
            if found is None:
                return None
            if found[1] <= self._clock():
                del self._entries[presented]
                return None
            return found[0]

    def put(self, presented: str, caller: Caller) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:  # only keys that worked get here; stay small
                self._entries.clear()
            self._entries[presented] = (caller, self._clock() + self.ttl)


def _state(request: Request) -> tuple[Buckets, KeyCache]:
    state = request.app.state
    found: tuple[Buckets, KeyCache] | None = getattr(state, "api_auth", None)
    if found is None:
        with _limiter_lock:
            found = getattr(state, "api_auth", None)
            if found is None:
                settings = state.reclaim.settings
                found = (
                    make_buckets(
                        settings.redis_url,
                        settings.api_rate_per_second,
                        settings.api_burst,
                        prefix=settings.redis_key_prefix,
                    ),
                    KeyCache(settings.api_key_cache_seconds),
                )
                state.api_auth = found
    return found


def caller(scope: Scope) -> Callable[..., Awaitable[Caller]]:
    """A dependency for operations that need ``scope``."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        if credentials is None:
            raise ApiError(
                401,
                "missing_api_key",
                "send your API key as `Authorization: Bearer rcl_…`",
                headers=_CHALLENGE,
            )
        presented = credentials.credentials
        buckets, cache = _state(request)
        found = cache.get(presented)
        if found is None:
            try:
                found = await run_read(
                    request.app, lambda session: authenticate(session, presented)
                )
            except AuthError as exc:
                status = 403 if exc.code == "partner_inactive" else 401
                raise ApiError(status, exc.code, exc.message, headers=_CHALLENGE) from None
            cache.put(presented, found)
        if scope not in found.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"this key lacks the `{scope.value}` scope "
                f"(it has: {', '.join(sorted(found.scopes)) or 'none'})",
            )
        wait = buckets.take(found.key_id)
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests for this key; retry in {wait:.2f} s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if found.last_used_at is None or found.last_used_at < utcnow() - LAST_USED_RESOLUTION:
            # Rare (once a minute per key): the one write a read request makes, in a
            # thread, since a write may wait for the database's lock.
            await run_in_threadpool(_touch, request, found)
            cache.put(presented, replace(found, last_used_at=utcnow()))
        return found

    return dependency


def _touch(request: Request, found: Caller) -> None:
    with request.app.state.reclaim.sessions() as writer:
        note_use(writer, found)
        writer.commit()


HashesReader = Annotated[Caller, Depends(caller(Scope.HASHES_READ))]
Matcher = Annotated[Caller, Depends(caller(Scope.MATCH))]
FeedbackSender = Annotated[Caller, Depends(caller(Scope.FEEDBACK))]
NoticesReader = Annotated[Caller, Depends(caller(Scope.NOTICES))]
