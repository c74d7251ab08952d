"""The huey queue: SQLite by default, Redis when a URL is configured."""

from __future__ import annotations

from dataclasses import dataclass

from huey import Huey, RedisHuey, SqliteHuey

from reclaim.config import Settings


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """Build the queue the settings ask for (`immediate` runs tasks inline, for tests)."""
    if settings.redis_url:
        return RedisHuey("reclaim", url=settings.redis_url, immediate=immediate)
    settings.queue_file.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("reclaim", filename=str(settings.queue_file), immediate=immediate)


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
