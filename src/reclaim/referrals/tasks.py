"""Referrals' background jobs: sending the referral outbox; reminders and expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.referrals import referring
from reclaim.referrals.outbox import ReferralOutbox
from reclaim.takedown import tasks as takedown_tasks


def build_outbox(
    settings: Settings, sessions: sessionmaker[Session], *, clock: Clock = system_clock
) -> ReferralOutbox:
    return takedown_tasks.make_outbox(ReferralOutbox, settings, sessions, clock=clock)


@dataclass(frozen=True, slots=True)
class ReferralTasks:
    deliver_referrals: Any
    follow_up_referrals: Any


def register(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
) -> ReferralTasks:
    outbox = build_outbox(settings, sessions, clock=clock)
    policy = referring.policy_of(settings)

    @huey.periodic_task(crontab(minute="*"), name="reclaim.deliver_referrals")  # type: ignore[untyped-decorator]
    def deliver_referrals() -> dict[str, int]:
        """Send every due referral message once."""
        return outbox.run_due()

    @huey.periodic_task(crontab(minute="*/5"), name="reclaim.follow_up_referrals")  # type: ignore[untyped-decorator]
    def follow_up_referrals() -> dict[str, int]:
        """Queue reminders to agencies that have not answered; expire the overdue."""
        with sessions.begin() as session:
            return referring.follow_up(session, policy, clock=clock)

    return ReferralTasks(
        deliver_referrals=deliver_referrals, follow_up_referrals=follow_up_referrals
    )
