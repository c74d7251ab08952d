"""Notices to platforms: drafted from decided items, queued with their outbox records.

One notice per platform per case, holding the decided items that platform hosts and
that no open notice covers yet.  Queuing a notice commits, in the same transaction, one
delivery per channel the platform has (email, webhook): the outbox (takedown/outbox.py)
sends them.  Every status change is audited.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.domain import ALPHABET, Classification
from reclaim.cases.models import Case, Item
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.states import IllegalTransitionError
from reclaim.platforms.models import Platform
from reclaim.takedown.domain import (
    Channel,
    DeliveryPurpose,
    DeliveryStatus,
    ItemOutcome,
    NoticeStatus,
    check_notice_transition,
    next_verification,
    notice_deadline,
)
from reclaim.takedown.models import Delivery, Notice, NoticeItem


class NoticeError(ValueError):
    """The notice cannot be created or moved as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class NoticePolicy:
    deadline_hours: Mapping[Classification, int | None]
    reminder_every: timedelta
    follow_up: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> NoticePolicy:
        minor, adult = settings.notice_deadline_hours_minor, settings.notice_deadline_hours_adult
        return cls(
            deadline_hours={
                Classification.CSAM: minor,
                Classification.SELF_GENERATED_MINOR: minor,
                Classification.ADULT_NCII: adult,
                Classification.SEXTORTION_THREAT: None,
                Classification.NOT_ACTIONABLE: None,
                Classification.NEEDS_INFORMATION: None,
            },
            reminder_every=timedelta(hours=settings.notice_reminder_hours),
            follow_up=timedelta(days=settings.notice_follow_up_days),
        )


def new_reference() -> str:
    """``RN-7K2M-9QXD``: the notice's reference, quoted by platforms in replies."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"RN-{body[:4]}-{body[4:]}"


def _covered_item_ids(session: Session, case: Case) -> set[int]:
    """Items already in a notice that is a draft, open or done (not refused/expired)."""
    rows = session.scalars(
        select(NoticeItem.item_id)
        .join(Notice)
        .where(
            Notice.case_id == case.id,
            Notice.status.not_in([NoticeStatus.REFUSED, NoticeStatus.EXPIRED]),
        )
    )
    return set(rows)


def noticeable_items(session: Session, case: Case, policy: NoticePolicy) -> list[Item]:
    covered = _covered_item_ids(session, case)
    return [
        item
        for item in case.items
        if item.url is not None
        and item.withdrawn_at is None
        and item.classification is not None
        and policy.deadline_hours.get(item.classification) is not None
        and item.id not in covered
    ]


def draft_notices(
    session: Session,
    case: Case,
    policy: NoticePolicy,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> list[Notice]:
    """Draft one notice per platform for the case's decided, un-noticed URL items.

    Items with no platform yet are left out (an analyst assigns them first); the caller
    can list them with :func:`items_without_platform`.
    """
    by_platform: dict[int, list[Item]] = defaultdict(list)
    for item in noticeable_items(session, case, policy):
        if item.platform_id is not None:
            by_platform[item.platform_id].append(item)
    drafts: list[Notice] = []
    for platform_id, items in sorted(by_platform.items()):
        platform = session.get_one(Platform, platform_id)
        notice = Notice(
            reference=new_reference(),
            platform_id=platform_id,
            case_id=case.id,
            status=NoticeStatus.DRAFT,
            language=platform.language,
            created_by_id=actor.id if actor.type == "user" else None,
            created_at=clock(),
            items=[
                NoticeItem(
                    item_id=item.id,
                    classification=item.classification,
                    outcome=ItemOutcome.PENDING,
                )
                for item in items
            ],
        )
        session.add(notice)
        session.flush()
        _audit(session, notice, actor, clock, {"status": "draft", "items": len(items)})
        drafts.append(notice)
    return drafts


def items_without_platform(session: Session, case: Case, policy: NoticePolicy) -> list[Item]:
    return [i for i in noticeable_items(session, case, policy) if i.platform_id is None]


def channels_of(platform: Platform) -> list[Channel]:
    channels = []
    if platform.abuse_email:
        channels.append(Channel.EMAIL)
    if platform.webhook_url:
        channels.append(Channel.WEBHOOK)
    return channels


def queue_notice(
    session: Session, notice: Notice, *, actor: audit.Actor, clock: Clock = system_clock
) -> list[Delivery]:
    """Move a draft to queued and commit its deliveries with it (the outbox)."""
    if notice.status != NoticeStatus.DRAFT:
        raise IllegalTransitionError(notice.status, NoticeStatus.QUEUED)
    channels = channels_of(notice.platform)
    if not channels:
        raise NoticeError(
            f"{notice.platform.name} has no abuse email or webhook yet; add one in the "
            "platform directory first"
        )
    _move(session, notice, NoticeStatus.QUEUED, actor, clock)
    notice.queued_at = clock()
    return [
        _add_delivery(session, notice, DeliveryPurpose.NOTICE, channel, clock)
        for channel in channels
    ]


def _add_delivery(
    session: Session, notice: Notice, purpose: DeliveryPurpose, channel: Channel, clock: Clock
) -> Delivery:
    sequence = notice.reminders_sent if purpose is DeliveryPurpose.REMINDER else 0
    delivery = Delivery(
        notice_id=notice.id,
        purpose=purpose,
        channel=channel,
        idempotency_key=f"{notice.reference}.{purpose.value}{sequence}.{channel.value}".lower(),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=clock(),
        created_at=clock(),
    )
    session.add(delivery)
    session.flush()
    return delivery


def mark_sent(
    session: Session, notice: Notice, policy: NoticePolicy, *, clock: Clock = system_clock
) -> None:
    """The first delivery reached the platform: the deadline and the checks start now."""
    if notice.status != NoticeStatus.QUEUED:
        return
    now = clock()
    _move(session, notice, NoticeStatus.SENT, audit.SYSTEM, clock)
    notice.sent_at = now
    notice.deadline_at = notice_deadline(
        now, [i.classification for i in notice.items], policy.deadline_hours
    )
    notice.next_reminder_at = now + policy.reminder_every
    for notice_item in notice.items:
        notice_item.next_check_at = next_verification(now, 0)


def queue_reminders(
    session: Session, policy: NoticePolicy, *, clock: Clock = system_clock
) -> list[Delivery]:
    """Re-send every open notice whose reminder is due; expire those past follow-up."""
    now = clock()
    due = session.scalars(
        select(Notice).where(
            Notice.status.in_(
                [NoticeStatus.SENT, NoticeStatus.ACKNOWLEDGED, NoticeStatus.PARTIALLY_REMOVED]
            ),
            Notice.next_reminder_at <= now,
        )
    ).all()
    deliveries: list[Delivery] = []
    for notice in due:
        sent_at = notice.sent_at or notice.created_at
        if now >= sent_at + policy.follow_up:
            move(session, notice, NoticeStatus.EXPIRED, actor=audit.SYSTEM, clock=clock)
            continue
        notice.reminders_sent += 1
        notice.next_reminder_at = now + policy.reminder_every
        deliveries += [
            _add_delivery(session, notice, DeliveryPurpose.REMINDER, channel, clock)
            for channel in channels_of(notice.platform)
        ]
    return deliveries


def move(
    session: Session,
    notice: Notice,
    status: NoticeStatus,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
    details: dict[str, Any] | None = None,
) -> None:
    """A checked, audited status change (acknowledgements, outcomes, expiry)."""
    _move(session, notice, status, actor, clock, details=details)
    now = clock()
    if status == NoticeStatus.ACKNOWLEDGED:
        notice.acknowledged_at = now
    if status in (NoticeStatus.REMOVED, NoticeStatus.REFUSED, NoticeStatus.EXPIRED):
        notice.resolved_at = now
        notice.next_reminder_at = None


def _move(
    session: Session,
    notice: Notice,
    status: NoticeStatus,
    actor: audit.Actor,
    clock: Clock,
    *,
    details: dict[str, Any] | None = None,
) -> None:
    previous = notice.status
    if previous == status:
        return
    notice.status = check_notice_transition(previous, status)
    _audit(
        session,
        notice,
        actor,
        clock,
        {"from": previous.value, "to": status.value} | (details or {}),
    )


def _audit(
    session: Session, notice: Notice, actor: audit.Actor, clock: Clock, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        AuditTag.NOTICE_CHANGED,
        actor=actor,
        target=(TargetKind.NOTICE, notice.id),
        details={"reference": notice.reference, "case_id": notice.case_id} | details,
        clock=clock,
    )


def is_overdue(notice: Notice, now: datetime) -> bool:
    return notice.deadline_at is not None and now >= notice.deadline_at and notice.status.is_open
