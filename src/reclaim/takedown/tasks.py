"""Takedown's background jobs: sending the outbox, reminders, and removal checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.cases import review
from reclaim.config import Settings
from reclaim.delivery.factory import retry_policy, smtp_transport, webhook_transport
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching import SafeFetcher
from reclaim.security.field_crypto import field_cipher
from reclaim.takedown import notices, verification
from reclaim.takedown.outbox import Outbox, Senders

#: Notices go out within a minute of being queued (and a send also enqueues at once).
DELIVERY_SCHEDULE = {"minute": "*"}
#: Reminders and removal checks are due hours apart; every five minutes is prompt.
FOLLOW_UP_SCHEDULE = {"minute": "*/5"}


T = TypeVar("T")


def make_outbox(
    kind: Callable[..., T],
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> T:
    """An outbox on the settings' transports, cipher and retry policy: the notices'
    (:class:`Outbox`), or another by the same protocol (the referrals')."""
    return kind(
        sessions=sessions,
        senders=Senders(email=smtp_transport(settings), webhook=webhook_transport(settings)),
        settings=settings,
        cipher=field_cipher(settings),
        retry=retry_policy(settings),
        clock=clock,
    )


def build_outbox(
    settings: Settings, sessions: sessionmaker[Session], *, clock: Clock = system_clock
) -> Outbox:
    return make_outbox(Outbox, settings, sessions, clock=clock)


@dataclass(frozen=True, slots=True)
class TakedownTasks:
    deliver_notices: Any
    follow_up_notices: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> TakedownTasks:
    outbox = build_outbox(settings, sessions, clock=clock)
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
            reminders = len(notices.queue_reminders(session, policy, clock=clock))
        checked = 0
        with sessions() as session:
            due = verification.due_pages(session, clock=clock)
            session.commit()
            for notice_page_id in due:
                # The fetch happens outside any transaction; each check commits on its own.
                verification.verify_page(session, notice_page_id, fetcher, policy, clock=clock)
                session.commit()
                checked += 1
        return {"reminders": reminders, "checked": checked}

    return TakedownTasks(deliver_notices=deliver_notices, follow_up_notices=follow_up_notices)
