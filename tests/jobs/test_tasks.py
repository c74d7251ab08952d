"""Scheduled tasks: registered once per queue, run by the consumer, call one service."""

# huey reads its schedule in naive local time, so these tests speak its language.
# ruff: noqa: DTZ001

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from huey import MemoryHuey
from sqlalchemy import Engine, select

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases import review
from reclaim.cases.models import QuarantinedMedia
from reclaim.config import Settings
from reclaim.jobs.registry import register_tasks
from reclaim.storage.db import make_session_factory
from reclaim.web.app import create_app
from tests.support.cases import make_case, quarantined


def test_the_purge_runs_hourly_and_purges(engine: Engine, db_settings: Settings) -> None:
    huey = MemoryHuey("tasks", immediate=True)
    sessions = make_session_factory(engine)
    tasks = register_tasks(huey, db_settings, sessions)
    assert register_tasks(huey, db_settings, sessions) is tasks  # idempotent

    # The purge at 7 past; deliveries (notices, referrals) and linking new cases every
    # minute; follow-ups every five minutes.
    due = huey.read_periodic(datetime(2026, 3, 1, 10, 7))
    assert sorted(task.name for task in due) == [
        "reclaim.deliver_notices",
        "reclaim.deliver_referrals",
        "reclaim.link_new_cases",
        "reclaim.purge_quarantine",
    ]
    assert sorted(t.name for t in huey.read_periodic(datetime(2026, 3, 1, 10, 8))) == [
        "reclaim.deliver_notices",
        "reclaim.deliver_referrals",
        "reclaim.link_new_cases",
    ]
    assert sorted(t.name for t in huey.read_periodic(datetime(2026, 3, 1, 10, 10))) == [
        "reclaim.deliver_notices",
        "reclaim.deliver_referrals",
        "reclaim.follow_up_notices",
        "reclaim.follow_up_referrals",
        "reclaim.link_new_cases",
    ]
    # The patrol of watched pages hourly at 41 past.
    assert sorted(t.name for t in huey.read_periodic(datetime(2026, 3, 1, 10, 41))) == [
        "reclaim.deliver_notices",
        "reclaim.deliver_referrals",
        "reclaim.link_new_cases",
        "reclaim.patrol_watched_pages",
    ]

    # The statistics' rollups of closed months hourly at 53 past.
    assert sorted(t.name for t in huey.read_periodic(datetime(2026, 3, 1, 10, 53))) == [
        "reclaim.deliver_notices",
        "reclaim.deliver_referrals",
        "reclaim.link_new_cases",
        "reclaim.roll_up_statistics",
    ]

    store = review.quarantine_store(db_settings)
    store.put("expired-object", b"synthetic bytes")
    with sessions.begin() as session:
        case = make_case(session, urls=["https://img.example.org/a.jpg"])
        quarantined(
            session,
            case.items[0],
            "expired-object",
            fetched_at=datetime.now(UTC) - timedelta(days=31),
            expires_at=datetime.now(UTC) - timedelta(days=1),
            size=15,
        )
    tasks.cases.purge_quarantine()  # enqueued and, on this immediate queue, run at once
    assert not store.exists("expired-object")
    with sessions() as session:
        (media,) = session.scalars(select(QuarantinedMedia)).all()
        assert media.purged_at is not None
        tags = session.scalars(select(AuditEvent.tag)).all()
    assert AuditTag.QUARANTINE_PURGED.value in tags
    # (huey keeps no results for periodic tasks; the function itself reports counts.)
    assert tasks.cases.purge_quarantine.call_local() == {"purged": 0, "objects": 0, "orphans": 0}
    assert tasks.scanning.patrol_watched_pages.call_local()["watched"] == 0
    assert tasks.statistics.roll_up.call_local()["months"] > 0  # empty months, rolled up


def test_the_web_app_registers_the_tasks_for_its_in_process_consumer(
    db_settings: Settings,
) -> None:
    huey = MemoryHuey("app")
    create_app(db_settings, huey=huey)
    due = huey.read_periodic(datetime(2026, 3, 1, 23, 7))
    assert "reclaim.purge_quarantine" in [task.name for task in due]
