"""Referrals' background jobs: sending the referral outbox; reminders and expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huey import Huey, crontab
from sqlalchemy.orm import Session, sessionmaker

from reclaim.config import Settings
from reclaim.delivery.factory import retry_policy, smtp_transport, webhook_transport
from reclaim.domain.clock import Clock, system_clock
from reclaim.referrals import referring
from reclaim.referrals.outbox import ReferralOutbox
from reclaim.security.field_crypto import field_cipher
from reclaim.takedown.outbox import Senders


def build_outbox(
    settings: Settings, sessions: sessionmaker[Session], *, clock: Clock = system_clock
) -> ReferralOutbox:
    return ReferralOutbox(
        sessions=sessions,
        senders=Senders(email=smtp_transport(settings), webhook=webhook_transport(settings)),
        settings=settings,
        cipher=field_cipher(settings),
        retry=retry_policy(settings),
        clock=clock,
    )


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
