"""The two guards on periodic jobs (jobs/periodic.py): once per tick across queues
sharing one Redis, and never two runs of one job at a time (Redis and SQLite)."""

# huey reads its schedule in naive time, so these tests speak its language.
# ruff: noqa: DTZ001

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from huey import Huey, crontab

from reclaim.jobs import periodic
from reclaim.jobs.periodic import ReclaimRedisHuey, periodic_runs
from reclaim.jobs.queue import make_huey
from tests.support.settings import make_settings, require_or_skip

REDIS_URL = os.environ.get("RECLAIM_TEST_REDIS_URL", "")


@pytest.fixture
def prefix() -> str:
    if not REDIS_URL:
        require_or_skip("RECLAIM_TEST_REDIS_URL is not set")
    return f"reclaim-test-{os.getpid()}-{secrets.token_hex(3)}"


def _redis_queue(tmp_path: Path, prefix: str) -> ReclaimRedisHuey:
    huey = make_huey(make_settings(tmp_path, redis_url=REDIS_URL, redis_key_prefix=prefix))
    assert isinstance(huey, ReclaimRedisHuey)
    return huey


@pytest.fixture
def two_workers(tmp_path: Path, prefix: str) -> Iterator[list[ReclaimRedisHuey]]:
    """Two queues on one Redis under one name: what two worker processes hold."""
    queues = [_redis_queue(tmp_path, prefix) for _ in range(2)]
    queues[0].flush()
    yield queues
    queues[0].flush()


def _register(huey: Huey, body: Any) -> Any:
    @huey.periodic_task(crontab(minute="*"), name="reclaim.test_job")  # type: ignore[untyped-decorator]
    def job() -> Any:
        return body()

    return job


def test_only_the_first_worker_to_claim_a_tick_enqueues_the_job(
    two_workers: list[ReclaimRedisHuey],
) -> None:
    for huey in two_workers:
        _register(huey, lambda: None)
    tick = datetime(2026, 3, 1, 10, 7, 0)
    later_in_tick = datetime(2026, 3, 1, 10, 7, 59)
    first = two_workers[0].read_periodic(tick)
    assert [task.name for task in first] == ["reclaim.test_job"]
    assert two_workers[1].read_periodic(later_in_tick) == []
    assert two_workers[0].read_periodic(later_in_tick) == []
    # The next minute is a new tick: claimed again, by whichever worker comes first.
    assert len(two_workers[1].read_periodic(datetime(2026, 3, 1, 10, 8, 1))) == 1


def _overlap(huey: Huey) -> tuple[list[str], list[Any]]:
    """Start the job, and while it runs, run it again; returns what ran and results."""
    running, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def body() -> str:
        ran.append("run")
        running.set()
        release.wait(10)
        return "done"

    job = _register(huey, body)
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(huey.execute(job.s())))
    first.start()
    assert running.wait(10)
    results.append(huey.execute(job.s()))  # the same job while the first still runs
    release.set()
    first.join(10)
    results.append(huey.execute(job.s()))  # and after it ended
    return ran, results


def test_a_job_still_running_is_not_started_again_across_workers(
    two_workers: list[ReclaimRedisHuey],
) -> None:
    ran, results = _overlap(two_workers[0])
    assert ran == ["run", "run"]  # the overlapping run was skipped, the later one ran
    assert results == [None, "done", "done"]
    assert periodic_runs(two_workers[1]) == {"reclaim.test_job": 2}


def test_the_sqlite_queue_does_not_overlap_a_job_either(tmp_path: Path) -> None:
    ran, results = _overlap(make_huey(make_settings(tmp_path)))
    assert ran == ["run", "run"]
    assert results == [None, "done", "done"]


def test_flush_forgets_ticks_leases_and_counts(two_workers: list[ReclaimRedisHuey]) -> None:
    huey = two_workers[0]
    _register(huey, lambda: "x")
    assert len(huey.read_periodic(datetime(2026, 3, 1, 10, 7))) == 1
    huey.flush()
    assert len(huey.read_periodic(datetime(2026, 3, 1, 10, 7))) == 1
    assert periodic_runs(huey) == {}


def test_the_lease_is_renewed_while_a_long_job_runs(
    two_workers: list[ReclaimRedisHuey], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(periodic, "LEASE_SECONDS", 0.6)
    running, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def body() -> str:
        ran.append("run")
        running.set()
        release.wait(10)
        return "done"

    jobs = [_register(huey, body) for huey in two_workers]
    first = threading.Thread(target=lambda: two_workers[0].execute(jobs[0].s()))
    first.start()
    assert running.wait(10)
    time.sleep(1.5)  # two and a half lease periods: held only because it is renewed
    assert two_workers[1].execute(jobs[1].s()) is None
    release.set()
    first.join(10)
    assert ran == ["run"]
