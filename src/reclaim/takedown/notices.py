"""Notices to platforms: drafted from decided pages, queued with their outbox records.

A notice asks one platform to remove some pages and the decided pictures on them.
Pages are shared by every case that reports them, so a page is noticed once, whatever
the number of cases: drafting from a case skips pages another notice already covers,
and names every decided media object on the page (from every case's decision in
force).  A page whose cases decided it in conflicting ways (a minor's image in one, an
adult's in another) is held until a supervisor settles it: nothing is sent about it.

Queuing a notice commits, in the same transaction, one delivery per channel the
platform has (email, webhook): the outbox (``outbox``) sends them.  Every status change
is audited.  Account notices ask a platform to act on an offender's account (a profile
page decided as part of a sextortion threat).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.cases.domain import ALPHABET, Classification
from reclaim.cases.models import Case, Item, Media, Page
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.states import IllegalTransitionError
from reclaim.platforms.models import Platform
from reclaim.takedown import case_progress
from reclaim.takedown.domain import (
    Channel,
    DeliveryPurpose,
    DeliveryStatus,
    MediaOutcome,
    NoticeKind,
    NoticeStatus,
    PageOutcome,
    check_notice_transition,
    deadline_hours,
    next_verification,
    notice_deadline,
)
from reclaim.takedown.models import Delivery, Notice, NoticeMedia, NoticePage
from reclaim.takedown.pending import (
    PendingPage,
    account_items,
    covered_page_ids,
    pending_pages,
)


class NoticeError(ValueError):
    """The notice cannot be created or moved as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class NoticePolicy:
    deadline_hours: Mapping[Classification, int | None]
    account_deadline: timedelta
    reminder_every: timedelta
    follow_up: timedelta
    check_offsets: tuple[timedelta, ...] = (
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(hours=24),
    )
    check_interval: timedelta = timedelta(days=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> NoticePolicy:
        minor, adult = settings.notice_deadline_hours_minor, settings.notice_deadline_hours_adult
        return cls(
            deadline_hours=deadline_hours(minor, adult),
            account_deadline=timedelta(hours=settings.notice_deadline_hours_account),
            reminder_every=timedelta(hours=settings.notice_reminder_hours),
            follow_up=timedelta(days=settings.notice_follow_up_days),
            check_offsets=tuple(
                timedelta(minutes=m) for m in settings.verification_schedule_minutes
            ),
            check_interval=timedelta(minutes=settings.verification_interval_minutes),
        )

    def next_check(self, sent_at: datetime, checks_done: int) -> datetime:
        return next_verification(sent_at, checks_done, self.check_offsets, self.check_interval)


def new_reference() -> str:
    """``RN-7K2M-9QXD``: the notice's reference, quoted by platforms in replies."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"RN-{body[:4]}-{body[4:]}"


def notices_of_case(session: Session, case: Case) -> list[Notice]:
    """Every notice naming a page of the case, oldest first."""
    page_ids = [item.page_id for item in case.items if item.page_id is not None]
    if not page_ids:
        return []
    return list(
        session.scalars(
            select(Notice)
            .join(NoticePage, NoticePage.notice_id == Notice.id)
            .where(NoticePage.page_id.in_(page_ids))
            .distinct()
            .order_by(Notice.id)
        )
    )


# --- drafting ---------------------------------------------------------------------------


def draft_notices(
    session: Session,
    case: Case,
    policy: NoticePolicy,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> list[Notice]:
    """Draft one notice per platform for the case's decided pages no notice covers yet.

    Pages with no platform yet are left out (an analyst assigns them first:
    :func:`pending.items_without_platform`), and so are pages with conflicting
    decisions (:func:`pending.held_pages`).
    """
    by_platform: dict[int, list[PendingPage]] = defaultdict(list)
    for pending in pending_pages(session, case):
        if pending.page.platform_id is not None and not pending.conflicts:
            by_platform[pending.page.platform_id].append(pending)
    drafts: list[Notice] = []
    for platform_id, pending_list in sorted(by_platform.items()):
        platform = session.get_one(Platform, platform_id)
        notice = _new_notice(session, platform, NoticeKind.CONTENT, actor, clock)
        for pending in pending_list:
            notice.pages.append(
                NoticePage(
                    page_id=pending.page.id,
                    classification=pending.classification,
                    outcome=PageOutcome.PENDING,
                    media=[
                        NoticeMedia(
                            media_id=media.id,
                            outcome=MediaOutcome.PENDING,
                            baseline_sha256=media.sha256,
                        )
                        for media in pending.media.values()
                    ],
                )
            )
        session.flush()
        _audit(
            session,
            notice,
            actor,
            clock,
            {
                "status": "draft",
                "pages": len(pending_list),
                "media": sum(len(p.media) for p in pending_list),
                "cases": sorted({number for p in pending_list for number in p.cases}),
            },
        )
        drafts.append(notice)
    return drafts


def draft_page_notice(
    session: Session,
    page: Page,
    media: Sequence[Media],
    classification: Classification,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
    details: dict[str, Any] | None = None,
) -> Notice | None:
    """A draft content notice for one page and the given pictures on it (a re-upload the
    patrol matched to a verified bank), for a supervisor to approve; None when the page
    is already in a notice or no platform hosts it."""
    if page.platform_id is None or covered_page_ids(session, [page.id]):
        return None
    platform = session.get_one(Platform, page.platform_id)
    notice = _new_notice(session, platform, NoticeKind.CONTENT, actor, clock)
    notice.pages.append(
        NoticePage(
            page_id=page.id,
            classification=classification,
            outcome=PageOutcome.PENDING,
            media=[
                NoticeMedia(media_id=m.id, outcome=MediaOutcome.PENDING, baseline_sha256=m.sha256)
                for m in media
            ],
        )
    )
    session.flush()
    _audit(
        session,
        notice,
        actor,
        clock,
        {"status": "draft", "pages": 1, "media": len(media)} | (details or {}),
    )
    return notice


def draft_account_notice(
    session: Session, item: Item, *, actor: audit.Actor, clock: Clock = system_clock
) -> Notice:
    """An account notice for an offender's profile page (its platform acts on the
    account: impersonation, extortion)."""
    conduct = item.classification
    if item.page is None or conduct is None or not conduct.targets_account:
        raise NoticeError("only a URL decided as a threat or grooming is an account")
    if item.page.platform_id is None:
        raise NoticeError("assign the platform that hosts this account first")
    if item not in account_items(session, item.case):
        raise NoticeError("an account notice for this page is already open")
    platform = session.get_one(Platform, item.page.platform_id)
    notice = _new_notice(session, platform, NoticeKind.ACCOUNT, actor, clock)
    notice.pages.append(
        NoticePage(
            page_id=item.page.id,
            classification=conduct,
            outcome=PageOutcome.PENDING,
        )
    )
    session.flush()
    _audit(session, notice, actor, clock, {"status": "draft", "kind": "account", "pages": 1})
    return notice


def _new_notice(
    session: Session, platform: Platform, kind: NoticeKind, actor: audit.Actor, clock: Clock
) -> Notice:
    notice = Notice(
        reference=new_reference(),
        platform_id=platform.id,
        kind=kind,
        status=NoticeStatus.DRAFT,
        language=platform.language,
        created_by_id=actor.id if actor.type is ActorKind.USER else None,
        created_at=clock(),
    )
    session.add(notice)
    return notice


# --- sending ----------------------------------------------------------------------------


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


def deadline_for(notice: Notice, sent_at: datetime, policy: NoticePolicy) -> datetime | None:
    if notice.kind is NoticeKind.ACCOUNT:
        return sent_at + policy.account_deadline
    return notice_deadline(
        sent_at, [page.classification for page in notice.pages], policy.deadline_hours
    )


def mark_sent(
    session: Session, notice: Notice, policy: NoticePolicy, *, clock: Clock = system_clock
) -> None:
    """The first delivery reached the platform: the deadline and the checks start now,
    and the cases whose pages it names now await removal."""
    if notice.status != NoticeStatus.QUEUED:
        return
    now = clock()
    _move(session, notice, NoticeStatus.SENT, audit.SYSTEM, clock)
    notice.sent_at = now
    notice.deadline_at = deadline_for(notice, now, policy)
    notice.next_reminder_at = now + policy.reminder_every
    for notice_page in notice.pages:
        notice_page.next_check_at = policy.next_check(now, 0)
    case_progress.after_sending(session, notice, clock=clock)


def queue_reminders(
    session: Session, policy: NoticePolicy, *, clock: Clock = system_clock
) -> list[Delivery]:
    """Re-send every open notice whose reminder is due; expire those past follow-up.

    The due notices are locked (PostgreSQL; SQLite's writers queue at BEGIN): a second
    run at the same moment waits, then finds them no longer due, so no reminder is
    queued twice."""
    now = clock()
    due = session.scalars(
        select(Notice)
        .where(
            Notice.status.in_(
                [NoticeStatus.SENT, NoticeStatus.ACKNOWLEDGED, NoticeStatus.PARTIALLY_REMOVED]
            ),
            Notice.next_reminder_at <= now,
        )
        .with_for_update(of=Notice)
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
    new_status: NoticeStatus,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
    details: dict[str, Any] | None = None,
) -> None:
    """A checked, audited status change (acknowledgements, outcomes, expiry)."""
    _move(session, notice, new_status, actor, clock, details=details)
    now = clock()
    if new_status == NoticeStatus.ACKNOWLEDGED:
        notice.acknowledged_at = now
    if new_status in (NoticeStatus.REMOVED, NoticeStatus.REFUSED, NoticeStatus.EXPIRED):
        notice.resolved_at = now
        notice.next_reminder_at = None


def _move(
    session: Session,
    notice: Notice,
    new_status: NoticeStatus,
    actor: audit.Actor,
    clock: Clock,
    *,
    details: dict[str, Any] | None = None,
) -> None:
    previous = notice.status
    if previous == new_status:
        return
    notice.status = check_notice_transition(previous, new_status)
    _audit(
        session,
        notice,
        actor,
        clock,
        {"from": previous.value, "to": new_status.value} | (details or {}),
    )


def _audit(
    session: Session, notice: Notice, actor: audit.Actor, clock: Clock, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        AuditTag.NOTICE_CHANGED,
        actor=actor,
        target=(TargetKind.NOTICE, notice.id),
        details={"reference": notice.reference} | details,
        clock=clock,
    )


def is_overdue(notice: Notice, now: datetime) -> bool:
    return notice.deadline_at is not None and now >= notice.deadline_at and notice.status.is_open
