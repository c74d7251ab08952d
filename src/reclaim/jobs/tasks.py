"""Background tasks.  Each is thin: it opens a transaction and calls one service.

``register_tasks`` is called once per queue by each entry point that builds one
(``create_app`` for the in-process consumer, ``reclaim worker``), so both run the
same tasks and the same schedule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.delivery.factory import retry_policy, smtp_transport, webhook_transport
from reclaim.fetching import SafeFetcher
from reclaim.services import notices, retention, review, verification
from reclaim.services.field_crypto import field_cipher
from reclaim.services.outbox import Outbox, Senders
from reclaim.storage.models import NoticeItem

#: Hourly: retention is counted in days, so an hour late is never more than that.
PURGE_SCHEDULE = {"minute": "7"}
#: Notices go out within a minute of being queued (and a send also enqueues at once).
DELIVERY_SCHEDULE = {"minute": "*"}
#: Reminders and removal checks are due hours apart; every five minutes is prompt.
FOLLOW_UP_SCHEDULE = {"minute": "*/5"}


def build_outbox(settings: Settings, sessions: sessionmaker[Session]) -> Outbox:
    return Outbox(
        sessions=sessions,
        senders=Senders(email=smtp_transport(settings), webhook=webhook_transport(settings)),
        settings=settings,
        cipher=field_cipher(settings),
        retry=retry_policy(settings),
    )


@dataclass(frozen=True, slots=True)
class Tasks:
    """The registered task functions (calling one enqueues it)."""

    purge_quarantine: Any
    deliver_notices: Any
    follow_up_notices: Any


def register_tasks(huey: Huey, settings: Settings, sessions: sessionmaker[Session]) -> Tasks:
    """Register Reclaim's tasks on ``huey``; calling it again returns the same tasks."""
    existing: Tasks | None = getattr(huey, "reclaim_tasks", None)
    if existing is not None:
        return existing

    @huey.periodic_task(crontab(**PURGE_SCHEDULE), name="reclaim.purge_quarantine")  # type: ignore[untyped-decorator]
    def purge_quarantine() -> dict[str, int]:
        """Delete quarantined media whose retention period has ended."""
        with sessions.begin() as session:
            outcome = retention.purge_expired(
                session,
                review.quarantine_store(settings),
                retention=timedelta(days=settings.quarantine_retention_days),
            )
        return {"purged": outcome.purged, "objects": outcome.objects, "orphans": outcome.orphans}

    outbox = build_outbox(settings, sessions)
    policy = notices.NoticePolicy.from_settings(settings)
    fetcher = SafeFetcher(review.fetch_policy(settings))

    @huey.periodic_task(crontab(**DELIVERY_SCHEDULE), name="reclaim.deliver_notices")  # type: ignore[untyped-decorator]
    def deliver_notices() -> dict[str, int]:
        """Send every due delivery in the outbox once."""
        return outbox.run_due()

    @huey.periodic_task(crontab(**FOLLOW_UP_SCHEDULE), name="reclaim.follow_up_notices")  # type: ignore[untyped-decorator]
    def follow_up_notices() -> dict[str, int]:
        """Queue due reminders (expiring what is past follow-up) and run due checks."""
        with sessions.begin() as session:
            reminders = len(notices.queue_reminders(session, policy))
        checked = 0
        with sessions() as session:
            for item_id in verification.due_items(session):
                verification.verify_item(
                    session,
                    session.get_one(NoticeItem, item_id),
                    fetcher,
                    follow_up=policy.follow_up,
                )
                session.commit()  # each check on its own: a slow one does not hold the rest
                checked += 1
        return {"reminders": reminders, "checked": checked}

    tasks = Tasks(
        purge_quarantine=purge_quarantine,
        deliver_notices=deliver_notices,
        follow_up_notices=follow_up_notices,
    )
    huey.reclaim_tasks = tasks
    return tasks
