"""A witness that is down when a checkpoint is taken receives it on a later try."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.jobs.queue import make_huey
from reclaim.jobs.registry import register_tasks
from reclaim.jobs.worker import InProcessWorker
from reclaim.oversight.witness import witness_secret
from reclaim.storage.db import make_engine, make_session_factory
from tests.support.settings import make_settings
from tests.support.webhooks import WebhookReceiver


class FlakyWitness(WebhookReceiver):
    """A witness's receiver that answers 503 to its first ``failures`` calls."""

    failures = 2

    def judge(
        self, header: str | None, body: bytes, key: str
    ) -> tuple[int, Iterable[tuple[str, str]], bytes]:
        if self.failures:
            self.failures -= 1
            return 503, (), b'{"error": "down for maintenance"}'
        return super().judge(header, body, key)


def test_a_failed_witness_webhook_is_retried_until_it_succeeds(
    tmp_path: Path, database_url: str
) -> None:
    receiver = FlakyWitness().start()
    try:
        settings = make_settings(
            tmp_path,
            database_url=database_url,
            audit_witness_webhook_url=receiver.url(),
            fetch_allowlist=["127.0.0.1/32"],
            delivery_retry_base_seconds=0.2,
            delivery_retry_cap_seconds=1.0,
            delivery_max_attempts=5,
        )
        receiver.secret = witness_secret(settings)
        engine = make_engine(database_url)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            for _ in range(2):
                audit.record(session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM)
        huey = make_huey(settings)
        tasks = register_tasks(huey, settings, sessions)
        worker = InProcessWorker(huey, workers=2)
        worker.start()
        try:
            tasks.oversight.write_checkpoint()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(c.status == 200 for c in receiver.calls):
                time.sleep(0.1)
        finally:
            worker.stop()
            engine.dispose()
    finally:
        receiver.stop()
    assert [call.status for call in receiver.calls] == [503, 503, 200]
    # The same checkpoint each time, under the same idempotency key.
    assert {call.headers["Idempotency-Key"] for call in receiver.calls} == {"audit-checkpoint-2"}
    bodies = [json.loads(call.body) for call in receiver.calls]
    assert all(body == bodies[0] for body in bodies) and bodies[0]["sequence"] == 2
    assert list(settings.checkpoint_dir.glob("audit-checkpoint-*.json"))
