"""Two `reclaim worker` processes on one PostgreSQL and one Redis: each periodic job runs
once per tick, and each notice is sent once.

Redis database 15 (the suite's queue database) under a queue name unique to the run
(``RECLAIM_REDIS_KEY_PREFIX``), flushed before and after.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from reclaim.jobs.periodic import ReclaimRedisHuey, periodic_runs
from reclaim.jobs.queue import make_huey
from reclaim.platforms.models import Platform
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.takedown.domain import DeliveryStatus
from reclaim.takedown.models import Delivery
from reclaim.takedown.notices import NoticePolicy
from tests.support.settings import (
    TEST_AUDIT_KEY,
    TEST_QUARANTINE_KEY,
    TEST_SIGNING_KEY,
    make_settings,
    require_or_skip,
)
from tests.support.smtp import LoopbackSmtp, RecordingHandler
from tests.support.takedown import case_with_urls, notice_for
from tests.takedown.outbox_worker import make_outbox

REDIS_URL = os.environ.get("RECLAIM_TEST_REDIS_URL", "")
NOTICES = 3
CLAIM = re.compile(r"periodic (\S+) for (\S+): (claimed here|already claimed by another worker)")


def _queue_notices(database_url: str, count: int = NOTICES) -> list[int]:
    settings = make_settings(Path("/nonexistent"), database_url=database_url)
    engine = make_engine(database_url)
    ids: list[int] = []
    with make_session_factory(engine).begin() as session:
        platform = Platform(name="Loop Platform", language="en", abuse_email="abuse@loop.example")
        session.add(platform)
        session.flush()
        for n in range(count):
            page = f"https://loop.example/p/{n}"
            case = case_with_urls(
                session, [page], platform=platform, pictures={page: [(f"{page}.jpg", f"b{n}")]}
            )
            _, deliveries = notice_for(
                session, case, NoticePolicy.from_settings(settings), stage="queued"
            )
            ids += [d.id for d in deliveries]
    engine.dispose()
    return ids


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[tuple[ReclaimRedisHuey, str]]:
    if not REDIS_URL:
        require_or_skip("RECLAIM_TEST_REDIS_URL is not set")
    prefix = f"reclaim-test-{os.getpid()}-{secrets.token_hex(3)}"
    huey = make_huey(make_settings(tmp_path, redis_url=REDIS_URL, redis_key_prefix=prefix))
    assert isinstance(huey, ReclaimRedisHuey)
    huey.flush()
    yield huey, prefix
    huey.flush()


def _after_minute_start() -> None:
    """Start at a minute's beginning, so both workers' first scheduling shares a tick."""
    second = datetime.now(UTC).second
    if second > 40:
        time.sleep(61 - second)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_workers_run_each_periodic_job_once_per_tick_and_send_each_notice_once(
    tmp_path: Path,
    database_url: str,
    queue: tuple[ReclaimRedisHuey, str],
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    huey, prefix = queue
    deliveries = _queue_notices(database_url)
    env = {
        **os.environ,
        "RECLAIM_ENVIRONMENT": "test",
        "RECLAIM_SECRET_KEY": secrets.token_urlsafe(32),
        "RECLAIM_DATABASE_URL": database_url,
        "RECLAIM_DATA_DIR": str(tmp_path / "data"),
        "RECLAIM_QUARANTINE_KEYS": json.dumps({"k1": TEST_QUARANTINE_KEY}),
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID": "k1",
        "RECLAIM_SIGNING_KEYS": json.dumps({"s1": TEST_SIGNING_KEY}),
        "RECLAIM_SIGNING_CURRENT_KEY_ID": "s1",
        "RECLAIM_AUDIT_KEYS": json.dumps({"a1": TEST_AUDIT_KEY}),
        "RECLAIM_AUDIT_CURRENT_KEY_ID": "a1",
        "RECLAIM_REDIS_URL": REDIS_URL,
        "RECLAIM_REDIS_KEY_PREFIX": prefix,
        "RECLAIM_SMTP_PORT": str(mailbox[0].port),
        "RECLAIM_SMTP_SECURITY": "none",
        "RECLAIM_MAIL_FROM": "Test Hotline <notices@hotline.example>",
        "RECLAIM_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-c", "from reclaim.cli import main; main()", "worker"]
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    _after_minute_start()
    outputs = [log.open("wb") for log in logs]
    workers = [
        subprocess.Popen([*command, "--workers", "2"], env=env, stdout=out, stderr=out)
        for out in outputs
    ]
    try:
        # Wait for a tick both workers scheduled (one claimed it, the other found it
        # claimed) and for every notice to be out.
        deadline = time.monotonic() + 180
        shared: set[str] = set()
        while time.monotonic() < deadline:
            for worker, log in zip(workers, logs, strict=True):
                if worker.poll() is not None:
                    pytest.fail(f"a worker exited: {log.read_text()[-2000:]}")
            seen = [
                {
                    tick
                    for task, tick, _ in CLAIM.findall(log.read_text())
                    if task.endswith("deliver_notices")
                }
                for log in logs
            ]
            shared = seen[0] & seen[1]
            if shared and len(mailbox[1].received) >= NOTICES:
                break
            time.sleep(0.5)
        time.sleep(3)  # let any duplicate run (there should be none) show
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
        for out in outputs:
            out.close()
    assert shared, [log.read_text()[-3000:] for log in logs]

    # Every claim line, from both workers: each (job, tick) claimed exactly once, and
    # each job started once per claimed tick.
    claims = [claim for log in logs for claim in CLAIM.findall(log.read_text())]
    won: dict[tuple[str, str], int] = {}
    for task, tick, outcome in claims:
        won[(task, tick)] = won.get((task, tick), 0) + (outcome == "claimed here")
    assert set(won.values()) == {1}, won
    ticks_per_task: dict[str, int] = {}
    for task, _ in won:
        ticks_per_task[task] = ticks_per_task.get(task, 0) + 1
    runs = periodic_runs(huey)
    assert runs == ticks_per_task, (runs, ticks_per_task)
    assert runs["reclaim.deliver_notices"] >= 1

    # Each notice reached the platform once.
    received = mailbox[1].received
    assert len(received) == NOTICES
    assert len({mail.parsed()["Message-ID"] for mail in received}) == NOTICES
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = session.scalars(select(Delivery).where(Delivery.id.in_(deliveries))).all()
        assert {(d.status, d.attempts) for d in rows} == {(DeliveryStatus.SENT, 1)}
    engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres", "sqlite"], indirect=True)
def test_two_workers_claiming_one_delivery_at_once_send_it_once(
    tmp_path: Path, database_url: str, mailbox: tuple[LoopbackSmtp, RecordingHandler]
) -> None:
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Test Hotline <notices@hotline.example>",
    )
    (delivery_id, *_) = _queue_notices(database_url, 1)
    engines = [make_engine(database_url) for _ in range(4)]
    outboxes = [make_outbox(settings, engine) for engine in engines]
    start = threading.Barrier(len(outboxes))
    outcomes: list[DeliveryStatus] = []

    def deliver(index: int) -> None:
        start.wait()
        outcomes.append(outboxes[index].deliver(delivery_id))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(outboxes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count(DeliveryStatus.SENT) >= 1
    assert set(outcomes) <= {DeliveryStatus.SENT, DeliveryStatus.SENDING, DeliveryStatus.COMMITTING}
    assert len(mailbox[1].received) == 1
    with make_session_factory(engines[0])() as session:
        delivery = session.get_one(Delivery, delivery_id)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_delivery_queued_while_a_run_sends_goes_out_in_that_run(
    tmp_path: Path, database_url: str, mailbox: tuple[LoopbackSmtp, RecordingHandler]
) -> None:
    # A delivery job enqueued meanwhile is skipped while the run holds the job's lease,
    # so the running one must look again before it ends.
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Test Hotline <notices@hotline.example>",
    )
    _first, second = _queue_notices(database_url, 2)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)

    def due_at(delivery_id: int, when: datetime) -> None:
        with sessions.begin() as session:
            session.get_one(Delivery, delivery_id).next_attempt_at = when

    due_at(second, datetime.now(UTC) + timedelta(days=1))  # not queued yet, as it were

    def queue_second(step: str) -> None:
        if step == "claimed" and not mailbox[1].received:
            due_at(second, datetime.now(UTC) - timedelta(seconds=1))

    outbox = make_outbox(settings, engine, crash_hook=queue_second)
    assert outbox.run_due() == {"sent": 2}
    assert len(mailbox[1].received) == 2
    engine.dispose()
