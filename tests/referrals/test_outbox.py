"""The referral outbox against a real SMTP server and a real webhook receiver on
loopback: each message once; after the point of no return an email is never resent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.cases.domain import AgeGroup
from reclaim.config import Settings
from reclaim.delivery import make_message_id
from reclaim.referrals import custody, referring
from reclaim.referrals.domain import AgencyKind, CustodyAction, ReferralStatus
from reclaim.referrals.models import Agency, Referral, ReferralDelivery
from reclaim.referrals.tasks import build_outbox
from reclaim.security.field_crypto import Purpose, field_cipher
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.takedown.domain import Channel, DeliveryStatus
from tests.support.cases import make_case, make_user
from tests.support.clock import FakeClock
from tests.support.referrals import make_agency
from tests.support.settings import make_settings
from tests.support.smtp import LoopbackSmtp, RecordingHandler
from tests.support.webhooks import SECRET, Answer, WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def outbox_settings(
    tmp_path: Path, database_url: str, mailbox: tuple[LoopbackSmtp, RecordingHandler]
) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Test Hotline <referrals@hotline.example>",
        fetch_allowlist=["127.0.0.1/32"],
        delivery_max_attempts=3,
    )


def _sent(engine: Engine, settings: Settings, webhook: str) -> tuple[str, str]:
    with make_session_factory(engine).begin() as session:
        police = make_agency(
            session,
            "Police unit",
            AgencyKind.POLICE,
            email="unit@police.example.org",
        )
        police.webhook_url = webhook  # a loopback receiver: the form would want https
        police.webhook_secret = field_cipher(settings).encrypt(
            SECRET, purpose=Purpose.WEBHOOK_SECRET
        )
        case = make_case(session, urls=["https://example.org/p"], age=AgeGroup.UNDER_18)
        sender = make_user(session, Role.SUPERVISOR)
        referral = referring.draft(
            session, case, police, [], actor=audit.SYSTEM, created_by_id=None
        )
        referring.send(
            session,
            referral,
            referring.policy_of(settings),
            sender_id=sender.id,
            secret=settings.secret_key.get_secret_value().encode(),
        )
        return referral.reference, case.number


def test_email_and_signed_webhook_each_go_once(
    engine: Engine,
    outbox_settings: Settings,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
    receiver: WebhookReceiver,
) -> None:
    reference, number = _sent(engine, outbox_settings, receiver.url())
    outbox = build_outbox(outbox_settings, make_session_factory(engine))
    assert outbox.run_due() == {"sent": 2}
    assert outbox.run_due() == {}
    (received,) = mailbox[1].received
    message = received.parsed()
    assert message["X-Reclaim-Referral"] == reference
    assert received.rcpt_tos == ("unit@police.example.org",)
    text = message.get_body(("plain",)).get_content()
    assert number in text and "/console/referral-answer/" in text
    assert "example.org/p" not in text  # no case content by email
    (call,) = [c for c in receiver.calls if c.status == 200]
    assert call.headers["Reclaim-Event"] == "referral.sent"
    body = json.loads(call.body)
    assert body["referral"] == reference and body["case"] == number
    with make_session_factory(engine)() as session:
        email = session.scalars(
            select(ReferralDelivery).where(ReferralDelivery.channel == Channel.EMAIL)
        ).one()
        assert message["Message-ID"] == make_message_id(email.idempotency_key, "hotline.example")


def test_an_email_past_the_point_of_no_return_is_never_sent_again(
    engine: Engine,
    outbox_settings: Settings,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
    receiver: WebhookReceiver,
) -> None:
    _sent(engine, outbox_settings, receiver.url())
    now = datetime.now(UTC)
    with make_session_factory(engine).begin() as session:
        for delivery in session.scalars(select(ReferralDelivery)):
            # A worker claimed both and died after the point of no return.
            delivery.status = DeliveryStatus.COMMITTING
            delivery.sending_started_at = now - timedelta(hours=1)
    outbox = build_outbox(outbox_settings, make_session_factory(engine), clock=FakeClock(now))
    outcome = outbox.run_due()
    assert outcome == {"unconfirmed": 1, "pending": 1}
    assert mailbox[1].received == []
    assert outbox.run_due() == {"sent": 1}  # the webhook again, with the same key
    assert mailbox[1].received == []
    with make_session_factory(engine)() as session:
        assert session.scalars(select(Agency)).one().name == "Police unit"


def test_an_agency_can_acknowledge_in_its_webhook_reply(
    engine: Engine, outbox_settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.answer = Answer(
        200, (), b'{"status": "acknowledged", "text": "Case officer assigned"}'
    )
    _sent(engine, outbox_settings, receiver.url())
    outbox = build_outbox(outbox_settings, make_session_factory(engine))
    assert outbox.run_due() == {"sent": 2}
    with make_session_factory(engine)() as session:
        referral = session.scalars(select(Referral)).one()
        assert referral.status is ReferralStatus.ACKNOWLEDGED
        assert referral.outcome_text == "Case officer assigned"
        actions = [e.action for e in custody.log(session, referral.case_id)]
        assert actions == [CustodyAction.TRANSFERRED, CustodyAction.ACKNOWLEDGED]


def test_a_reply_that_does_not_fit_is_ignored(
    engine: Engine, outbox_settings: Settings, receiver: WebhookReceiver
) -> None:
    receiver.answer = Answer(200, (), b'{"status": "closed"}')
    _sent(engine, outbox_settings, receiver.url())
    assert build_outbox(outbox_settings, make_session_factory(engine)).run_due() == {"sent": 2}
    with make_session_factory(engine)() as session:
        assert session.scalars(select(Referral)).one().status is ReferralStatus.SENT


def test_workers_running_the_outbox_at_once_send_each_message_once(
    database_url: str,
    engine: Engine,
    outbox_settings: Settings,
    mailbox: tuple[LoopbackSmtp, RecordingHandler],
    receiver: WebhookReceiver,
) -> None:
    _sent(engine, outbox_settings, receiver.url())
    engines = [make_engine(database_url) for _ in range(4)]
    outboxes = [build_outbox(outbox_settings, make_session_factory(e)) for e in engines]
    start = threading.Barrier(len(outboxes))

    def run(index: int) -> None:
        start.wait()
        outboxes[index].run_due()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(outboxes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for each in engines:
        each.dispose()
    assert len(mailbox[1].received) == 1
    assert len(receiver.calls) == 1
    with make_session_factory(engine)() as session:
        deliveries = session.scalars(select(ReferralDelivery)).all()
        assert {(d.status, d.attempts) for d in deliveries} == {(DeliveryStatus.SENT, 1)}
