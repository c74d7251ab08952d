"""The outbox against a real SMTP server and a real webhook receiver on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.config import Settings
from reclaim.delivery import make_message_id
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import Purpose, field_cipher
from reclaim.storage.db import make_session_factory
from reclaim.takedown.domain import NoticeStatus
from reclaim.takedown.models import Delivery, DeliveryAttempt, Notice
from reclaim.takedown.notices import NoticePolicy, queue_reminders
from tests.support.clock import FakeClock
from tests.support.settings import (
    REPO,
    TEST_AUDIT_KEY,
    TEST_QUARANTINE_KEY,
    TEST_SIGNING_KEY,
    make_settings,
)
from tests.support.smtp import LoopbackSmtp, RecordingHandler
from tests.support.takedown import case_with_urls, notice_for
from tests.support.webhooks import SECRET, WebhookReceiver
from tests.takedown.outbox_worker import make_outbox

ACTOR = audit.Actor(ActorKind.USER, None)
PAGE = "https://platform.example/p/1"
PICTURE = "https://img.platform.example/p/1.jpg"


@pytest.fixture
def outbox_settings(
    tmp_path: Path, database_url: str, mailbox: tuple[LoopbackSmtp, RecordingHandler]
) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Test Hotline <notices@hotline.example>",
        hotline_email="hotline@hotline.example",
        fetch_allowlist=["127.0.0.1/32"],
        delivery_retry_base_seconds=60,
        delivery_max_attempts=3,
    )


def _queued_notice(
    engine: Engine,
    settings: Settings,
    *,
    email: str | None = "abuse@platform.example",
    webhook: str | None = None,
    language: str = "zh_TW",
) -> tuple[int, list[int]]:
    with make_session_factory(engine).begin() as session:
        platform = Platform(name="Loop Platform", language=language, abuse_email=email)
        if webhook:
            platform.webhook_url = webhook
            platform.webhook_secret = field_cipher(settings).encrypt(
                SECRET, purpose=Purpose.WEBHOOK_SECRET
            )
        session.add(platform)
        session.flush()
        case = case_with_urls(
            session, [PAGE], platform=platform, pictures={PAGE: [(PICTURE, "bytes")]}
        )
        policy = NoticePolicy.from_settings(settings)
        notice, deliveries = notice_for(session, case, policy, stage="queued")
        return notice.id, [d.id for d in deliveries]


def test_a_notice_email_goes_out_once_and_starts_the_clock(
    engine: Engine,
    session: Session,
    outbox_settings: Settings,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    notice_id, (delivery_id,) = _queued_notice(engine, outbox_settings)
    outbox = make_outbox(outbox_settings, engine)
    assert outbox.run_due() == {"sent": 1}
    assert outbox.run_due() == {}
    (received,) = mailbox[1].received
    message = received.parsed()
    delivery = session.get_one(Delivery, delivery_id)
    assert message["Message-ID"] == make_message_id(delivery.idempotency_key, "hotline.example")
    notice = session.get_one(Notice, notice_id)
    assert message["X-Reclaim-Notice"] == notice.reference
    assert message["Subject"].startswith(f"移除通知 {notice.reference}")
    assert received.rcpt_tos == ("abuse@platform.example",)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # The page and the decided picture on it, in both parts of the email.
    assert PAGE in text and PICTURE in text
    assert PAGE in html and PICTURE in html
    assert notice.status == NoticeStatus.SENT and notice.deadline_at is not None
    assert notice.deadline_at - notice.sent_at == timedelta(hours=24)
    # What the platform received stays readable on the notice after sending.
    sent_text = text.replace("\r\n", "\n").rstrip("\n")
    assert (notice.subject, notice.text) == (message["Subject"], sent_text)


@pytest.mark.parametrize("crash_at", ["after-send", "claimed"])
def test_a_worker_killed_mid_delivery_never_sends_twice(  # noqa: PLR0917 - fixtures
    engine: Engine,
    session: Session,
    outbox_settings: Settings,
    database_url: str,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
    crash_at: str,
) -> None:
    notice_id, (delivery_id,) = _queued_notice(engine, outbox_settings)
    env = {
        **os.environ,
        "RECLAIM_ENVIRONMENT": "test",
        "RECLAIM_SECRET_KEY": outbox_settings.secret_key.get_secret_value(),
        "RECLAIM_DATABASE_URL": database_url,
        "RECLAIM_DATA_DIR": str(outbox_settings.data_dir),
        "RECLAIM_QUARANTINE_KEYS": json.dumps({"k1": TEST_QUARANTINE_KEY}),
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID": "k1",
        "RECLAIM_SIGNING_KEYS": json.dumps({"s1": TEST_SIGNING_KEY}),
        "RECLAIM_SIGNING_CURRENT_KEY_ID": "s1",
        "RECLAIM_AUDIT_KEYS": json.dumps({"a1": TEST_AUDIT_KEY}),
        "RECLAIM_AUDIT_CURRENT_KEY_ID": "a1",
        "RECLAIM_SMTP_PORT": str(mailbox[0].port),
        "RECLAIM_SMTP_SECURITY": "none",
        "RECLAIM_MAIL_FROM": outbox_settings.mail_from,
    }
    worker = subprocess.run(
        [sys.executable, "-m", "tests.takedown.outbox_worker", str(delivery_id), crash_at],
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert worker.returncode == 17, worker.stderr.decode()
    sent_before = len(mailbox[1].received)
    assert sent_before == (1 if crash_at == "after-send" else 0)

    # A new worker takes over once the lease has run out.
    clock = FakeClock(datetime.now(UTC))
    clock.now += timedelta(minutes=11)
    outbox = make_outbox(outbox_settings, engine, clock=clock)
    outbox.run_due()
    outbox.run_due()
    assert len(mailbox[1].received) == 1  # exactly one email, whatever the crash point
    delivery = session.get_one(Delivery, delivery_id)
    assert delivery.status == ("unconfirmed" if crash_at == "after-send" else "sent")
    assert session.get_one(Notice, notice_id).status == NoticeStatus.SENT


def test_temporary_failures_back_off_then_succeed_or_give_up(
    engine: Engine,
    session: Session,
    outbox_settings: Settings,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    _notice_id, (delivery_id,) = _queued_notice(engine, outbox_settings)
    clock = FakeClock(datetime.now(UTC))
    outbox = make_outbox(outbox_settings, engine, clock=clock)
    mailbox[1].data_reply = "451 4.3.0 try again later"
    assert outbox.deliver(delivery_id) == "pending"
    delivery = session.get_one(Delivery, delivery_id)
    retry_at = delivery.next_attempt_at
    session.rollback()  # SQLite: do not hold the write lock while the outbox works
    assert retry_at is not None and retry_at > clock.now
    assert outbox.run_due() == {}  # not due yet
    mailbox[1].data_reply = None
    clock.now = retry_at + timedelta(seconds=1)
    assert outbox.run_due() == {"sent": 1}
    outcomes = session.scalars(
        select(DeliveryAttempt.outcome)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(DeliveryAttempt.id)
    ).all()
    assert outcomes == ["temporary", "sent"]


def test_permanent_refusal_and_exhaustion_fail_the_delivery(
    engine: Engine,
    session: Session,
    outbox_settings: Settings,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    _n, (first,) = _queued_notice(engine, outbox_settings)
    outbox = make_outbox(outbox_settings, engine)
    mailbox[1].data_reply = "554 5.7.1 rejected"
    assert outbox.deliver(first) == "failed"
    mailbox[1].data_reply = "451 4.3.0 later"
    with make_session_factory(engine).begin() as s:
        s.get_one(Delivery, first).status = "pending"
    assert [outbox.deliver(first) for _ in range(2)] == ["pending", "failed"]  # 3 attempts


def test_signed_webhook_delivery_and_reminders(
    engine: Engine,
    session: Session,
    outbox_settings: Settings,
) -> None:
    receiver = WebhookReceiver().start()
    try:
        notice_id, _deliveries = _queued_notice(
            engine, outbox_settings, email=None, webhook=receiver.url(), language="en"
        )
        clock = FakeClock(datetime.now(UTC))
        outbox = make_outbox(outbox_settings, engine, clock=clock)
        assert outbox.run_due() == {"sent": 1}
        (call,) = [c for c in receiver.calls if c.status == 200]
        body = json.loads(call.body)
        reference = session.get_one(Notice, notice_id).reference
        session.rollback()  # SQLite: do not hold the write lock while the outbox works
        assert body["reference"] == reference and body["reminder"] == 0
        assert [(i["url"], [m["url"] for m in i["media"]]) for i in body["items"]] == [
            (PAGE, [PICTURE])
        ]
        assert call.headers["Reclaim-Event"] == "notice.sent"
        # A day later the reminder goes out, signed, with its own idempotency key.
        clock.now += timedelta(hours=25)
        with make_session_factory(engine).begin() as s:
            queue_reminders(s, NoticePolicy.from_settings(outbox_settings), clock=clock)
        assert outbox.run_due() == {"sent": 1}
        assert [
            c.headers["Reclaim-Event"] for c in [c for c in receiver.calls if c.status == 200]
        ] == ["notice.sent", "notice.reminder"]
        keys = {
            c.headers["Idempotency-Key"] for c in [c for c in receiver.calls if c.status == 200]
        }
        assert len(keys) == 2
        with make_session_factory(engine)() as s:
            stored = s.get_one(Notice, notice_id).text
        # The notice keeps the text first sent; the reminder did not replace it.
        assert stored is not None and reference in stored and "(reminder" not in stored
    finally:
        receiver.stop()
