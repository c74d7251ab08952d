import os
from pathlib import Path

from huey import Huey

from reclaim.jobs.queue import make_huey, queue_status
from reclaim.jobs.worker import InProcessWorker
from tests.support.settings import make_settings, require_or_skip

REDIS_URL = os.environ.get("RECLAIM_TEST_REDIS_URL", "")


def _round_trip(huey: Huey) -> None:
    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    worker = InProcessWorker(huey)
    worker.start()
    try:
        result = add(2, 3)
        assert result.get(blocking=True, timeout=20) == 5
    finally:
        worker.stop()
    status = queue_status(huey)
    assert status.ok and status.pending == 0


def test_sqlite_queue_runs_tasks_in_process(tmp_path: Path) -> None:
    huey = make_huey(make_settings(tmp_path))
    assert queue_status(huey).backend == "sqlite"
    _round_trip(huey)


def test_redis_queue_runs_tasks_in_process(tmp_path: Path) -> None:
    if not REDIS_URL:
        require_or_skip("RECLAIM_TEST_REDIS_URL is not set")
    huey = make_huey(make_settings(tmp_path, redis_url=REDIS_URL))
    huey.flush()
    assert queue_status(huey).backend == "redis"
    _round_trip(huey)
    huey.flush()


def test_an_unreachable_redis_is_reported_not_raised(tmp_path: Path) -> None:
    huey = make_huey(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0"))
    status = queue_status(huey)
    assert not status.ok
    assert status.error
