"""The huey queue: SQLite by default, Redis when a URL is configured."""

from __future__ import annotations

from dataclasses import dataclass

from huey import Huey, RedisHuey

from reclaim.config import Settings
from reclaim.jobs.periodic import ReclaimRedisHuey, ReclaimSqliteHuey


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """Build the queue the settings ask for (`immediate` runs tasks inline, for tests).

    Both run each periodic job once at a time, and with Redis once per tick across
    every worker (jobs/periodic.py)."""
    if settings.redis_url:
        # Named by the key prefix: several installations may share one Redis.
        return ReclaimRedisHuey(
            settings.redis_key_prefix, url=settings.redis_url, immediate=immediate
        )
    settings.queue_file.parent.mkdir(parents=True, exist_ok=True)
    return ReclaimSqliteHuey("reclaim", filename=str(settings.queue_file), immediate=immediate)


@dataclass(frozen=True, slots=True)
class QueueStatus:
    ok: bool
    backend: str
    pending: int | None = None
    error: str | None = None


def queue_status(huey: Huey) -> QueueStatus:
    backend = "redis" if isinstance(huey, RedisHuey) else "sqlite"
    try:
        pending = int(huey.pending_count())
    except Exception as exc:
        return QueueStatus(False, backend, error=type(exc).__name__)
    return QueueStatus(True, backend, pending)
