"""The monthly report by email: the scheduled job queues one mailing per active
supervisor (once), sends them through a real SMTP server on loopback, and keeps one a
relay refused for the next run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from huey import MemoryHuey
from sqlalchemy import Engine, select

from reclaim.accounts.domain import Role
from reclaim.config import Settings
from reclaim.demo.history import make_history
from reclaim.jobs.registry import register_tasks
from reclaim.statistics.domain import MailingStatus
from reclaim.statistics.models import Mailing
from reclaim.storage.db import make_session_factory
from reclaim.web.i18n import Catalogs
from tests.support.cases import make_user
from tests.support.clock import FakeClock
from tests.support.settings import make_settings
from tests.support.smtp import LoopbackSmtp, RecordingHandler

FIRST_OF_DECEMBER = datetime(2026, 12, 1, 1, 5, tzinfo=UTC)


@pytest.fixture
def mail_settings(
    tmp_path: Path, database_url: str, mailbox: tuple[LoopbackSmtp, RecordingHandler]
) -> Settings:
    return make_settings(
        tmp_path,
        database_url=database_url,
        smtp_port=mailbox[0].port,
        smtp_security="none",
        mail_from="Test Hotline <notices@hotline.example>",
        base_url="https://hotline.example",
        default_language="zh_TW",
    )


def test_the_monthly_job_emails_every_supervisor_once(
    engine: Engine, mail_settings: Settings, mailbox: tuple[LoopbackSmtp, RecordingHandler]
) -> None:
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        make_history(session, months=3, end=FIRST_OF_DECEMBER, cases_per_month=20, seed=4)
        first = make_user(session, Role.SUPERVISOR)
        second = make_user(session, Role.SUPERVISOR)
        gone = make_user(session, Role.SUPERVISOR)
        gone.is_active = False
        make_user(session, Role.ANALYST)
        addresses = {first.email, second.email}
    _, handler = mailbox
    handler.rcpt_replies[second.email] = "451 4.3.0 try again later"
    clock = FakeClock(FIRST_OF_DECEMBER)
    translate = Catalogs("zh_TW").get("zh_TW").gettext
    huey = MemoryHuey("stats", immediate=True)
    tasks = register_tasks(huey, mail_settings, sessions, clock=clock, translate=translate)

    result = tasks.statistics.monthly_report.call_local()
    assert result == {"queued": 2, "sent": 1, "failed": 0, "retry": 1}
    assert [r.rcpt_tos for r in handler.received] == [(first.email,)]
    message = handler.received[0].parsed()
    assert "2026-11 每月統計" in str(message["subject"])
    body = message.get_body(("plain",)).get_content()
    assert "https://hotline.example/console/statistics/monthly.pdf?month=2026-11" in body
    assert "檢舉" in body

    # The relay recovers; the next run sends the waiting one, and nothing twice.
    del handler.rcpt_replies[second.email]
    again = tasks.statistics.monthly_report.call_local()
    assert again == {"queued": 0, "sent": 1, "failed": 0, "retry": 0}
    assert sorted(r.rcpt_tos[0] for r in handler.received) == sorted(addresses)
    with sessions() as session:
        rows = session.scalars(select(Mailing)).all()
        assert {(m.period, m.status) for m in rows} == {("2026-11", MailingStatus.SENT)}
        assert len(rows) == 2
