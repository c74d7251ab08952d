"""Removal notices to platforms: the lifecycle, deadlines and the verification schedule.

A notice asks one platform to remove some decided items.  Its deadline comes from the
items' classification (Taiwan's rules: 24 hours for images of minors, 72 hours for
adults' intimate images; sextortion threats get pre-emptive hash sharing, no notice).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from reclaim.cases.domain import Classification
from reclaim.domain.states import StateMachine


class NoticeStatus(enum.StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"  # committed with its outbox record; delivery is under way
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    PARTIALLY_REMOVED = "partially_removed"
    REFUSED = "refused"
    EXPIRED = "expired"  # follow-up ended without removal (escalated to the authority)

    @property
    def is_open(self) -> bool:
        """Still waiting for the platform: reminders and verification continue."""
        return self in (
            NoticeStatus.QUEUED,
            NoticeStatus.SENT,
            NoticeStatus.ACKNOWLEDGED,
            NoticeStatus.PARTIALLY_REMOVED,
        )


#: Statuses in which a notice still waits for the platform (see ``is_open``).
OPEN_NOTICE_STATUSES = tuple(status for status in NoticeStatus if status.is_open)
#: Notices whose pages are not to be noticed again (draft, open or done).
COVERING = tuple(s for s in NoticeStatus if s not in (NoticeStatus.REFUSED, NoticeStatus.EXPIRED))

NOTICE_MACHINE = StateMachine(
    NoticeStatus,
    {
        NoticeStatus.DRAFT: frozenset({NoticeStatus.QUEUED}),
        NoticeStatus.QUEUED: frozenset({NoticeStatus.SENT, NoticeStatus.REMOVED}),
        NoticeStatus.SENT: frozenset(
            {
                NoticeStatus.ACKNOWLEDGED,
                NoticeStatus.REMOVED,
                NoticeStatus.PARTIALLY_REMOVED,
                NoticeStatus.REFUSED,
                NoticeStatus.EXPIRED,
            }
        ),
        NoticeStatus.ACKNOWLEDGED: frozenset(
            {
                NoticeStatus.REMOVED,
                NoticeStatus.PARTIALLY_REMOVED,
                NoticeStatus.REFUSED,
                NoticeStatus.EXPIRED,
            }
        ),
        NoticeStatus.PARTIALLY_REMOVED: frozenset(
            {NoticeStatus.REMOVED, NoticeStatus.REFUSED, NoticeStatus.EXPIRED}
        ),
        # Content that comes down late, or after a refusal, is still recorded as removed.
        NoticeStatus.REFUSED: frozenset({NoticeStatus.REMOVED, NoticeStatus.PARTIALLY_REMOVED}),
        NoticeStatus.EXPIRED: frozenset({NoticeStatus.REMOVED, NoticeStatus.PARTIALLY_REMOVED}),
        NoticeStatus.REMOVED: frozenset(),
    },
)


def check_notice_transition(current: NoticeStatus, requested: NoticeStatus) -> NoticeStatus:
    return NOTICE_MACHINE.check(current, requested)


class NoticeKind(enum.StrEnum):
    """What a notice asks for."""

    CONTENT = "content"  # remove pictures or videos (and the pages that show them)
    ACCOUNT = "account"  # act on an offender's account (sextortion, impersonation)


class PageOutcome(enum.StrEnum):
    """Where one noticed page stands (Reclaim's own checks, or the platform's word)."""

    PENDING = "pending"
    PARTIALLY_REMOVED = "partially_removed"  # some decided media gone, some still up
    REMOVED = "removed"  # the page, or every decided media object on it, is gone
    NOT_FOUND = "not_found"  # the platform says it is not there (verification checks)
    REFUSED = "refused"

    @property
    def is_gone(self) -> bool:
        return self in (PageOutcome.REMOVED, PageOutcome.NOT_FOUND)


class MediaOutcome(enum.StrEnum):
    """Where one noticed media object stands."""

    PENDING = "pending"  # still up, or not checked yet
    REMOVED = "removed"  # a check found it gone (or its page gone)


def page_outcome(media: list[MediaOutcome], *, page_gone: bool) -> PageOutcome:
    """A page is removed when it is gone or every decided media object on it is gone;
    partially removed while only some are.  A page noticed without media (an account,
    or a page never fetched) is removed only when the page itself is gone."""
    if page_gone or (media and all(m is MediaOutcome.REMOVED for m in media)):
        return PageOutcome.REMOVED
    if any(m is MediaOutcome.REMOVED for m in media):
        return PageOutcome.PARTIALLY_REMOVED
    return PageOutcome.PENDING


class ResolveOutcome(enum.StrEnum):
    """What a platform says it did with one noticed page (a claim verification checks)."""

    REMOVED = "removed"
    NOT_FOUND = "not_found"
    REFUSED = "refused"


class VerificationOutcome(enum.StrEnum):
    """What one check found, for a page or for one media object on it."""

    REMOVED = "removed"  # 404/410/451, host gone, or the page no longer has the media
    PARTIALLY_REMOVED = "partially_removed"  # a page: some decided media gone, some up
    STILL_UP = "still_up"  # same content hash
    CHANGED = "changed"  # different content: an analyst looks
    FAILED = "failed"  # could not tell (timeout, 5xx): try again later


def deadline_hours(minor: int, adult: int) -> dict[Classification, int | None]:
    """Legal deadlines by classification (hours after the notice is sent): ``minor`` for
    a minor's image, ``adult`` for an adult's; ``None``: no removal notice is sent (an
    offender's account has its own deadline)."""
    return {
        c: (minor if c.involves_minor else adult) if c.calls_for_removal else None
        for c in Classification
    }


DEFAULT_DEADLINE_HOURS: Mapping[Classification, int | None] = deadline_hours(24, 72)


def notice_deadline(
    sent_at: datetime,
    classifications: list[Classification],
    hours: Mapping[Classification, int | None] = DEFAULT_DEADLINE_HOURS,
) -> datetime | None:
    """The strictest deadline among the items' classifications, or None if none applies."""
    applicable = [h for c in classifications if (h := hours.get(c)) is not None]
    return sent_at + timedelta(hours=min(applicable)) if applicable else None


#: Re-checks after the notice is sent: +1 h, +6 h, +24 h, then daily (settings).
VERIFICATION_OFFSETS = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))
VERIFICATION_INTERVAL = timedelta(days=1)


def next_verification(
    sent_at: datetime,
    checks_done: int,
    offsets: Sequence[timedelta] = VERIFICATION_OFFSETS,
    interval: timedelta = VERIFICATION_INTERVAL,
) -> datetime:
    """When the (checks_done + 1)-th verification of a noticed page is due."""
    if checks_done < len(offsets):
        return sent_at + offsets[checks_done]
    extra = checks_done - len(offsets) + 1
    return sent_at + (offsets[-1] if offsets else timedelta(0)) + extra * interval


def summarise(outcomes: list[PageOutcome]) -> NoticeStatus | None:
    """The notice status the pages' outcomes call for, or None while nothing is decided."""
    gone = sum(o.is_gone for o in outcomes)
    if outcomes and gone == len(outcomes):
        return NoticeStatus.REMOVED
    if gone or any(o is PageOutcome.PARTIALLY_REMOVED for o in outcomes):
        return NoticeStatus.PARTIALLY_REMOVED
    if outcomes and all(o is PageOutcome.REFUSED for o in outcomes):
        return NoticeStatus.REFUSED
    return None


# --- the delivery outbox ------------------------------------------------------------


class DeliveryPurpose(enum.StrEnum):
    NOTICE = "notice"  # the notice itself
    REMINDER = "reminder"  # the same notice again, while the platform has not acted


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    """Where one outbox delivery stands (see takedown/outbox.py for the protocol).

    ``sending``: claimed by a worker, nothing has left yet.  ``committing``: the point
    of no return (an email's body is with the relay and only the final "." is left; a
    webhook request is about to go).  ``unconfirmed``: a worker stopped after the point
    of no return; the email is most likely delivered and is never sent twice.
    """

    PENDING = "pending"
    SENDING = "sending"
    COMMITTING = "committing"
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    FAILED = "failed"

    @property
    def needs_a_person(self) -> bool:
        return self in (DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED)


DELIVERY_MACHINE = StateMachine(
    DeliveryStatus,
    {
        DeliveryStatus.PENDING: frozenset({DeliveryStatus.SENDING}),
        # A claim whose worker vanished is taken over (sending again, a new lease);
        # a failure before the point of no return is retried or given up.
        DeliveryStatus.SENDING: frozenset(
            {
                DeliveryStatus.SENDING,
                DeliveryStatus.COMMITTING,
                DeliveryStatus.PENDING,
                DeliveryStatus.FAILED,
            }
        ),
        # After the point of no return: accepted, failed for good, retried (webhooks
        # carry an idempotency key; an email failure before the dot left nothing), or
        # uncertain (an email is then never sent again).
        DeliveryStatus.COMMITTING: frozenset(
            {
                DeliveryStatus.SENT,
                DeliveryStatus.PENDING,
                DeliveryStatus.FAILED,
                DeliveryStatus.UNCONFIRMED,
            }
        ),
        DeliveryStatus.SENT: frozenset(),
        DeliveryStatus.UNCONFIRMED: frozenset(),
        DeliveryStatus.FAILED: frozenset(),
    },
)

#: Deliveries a worker may pick up: due ones, and claims whose lease ran out.
CLAIMABLE = frozenset({DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.COMMITTING})


class AttemptOutcome(enum.StrEnum):
    STARTED = "started"  # in flight (or its worker stopped)
    SENT = "sent"
    TEMPORARY = "temporary"  # failed; tried again later
    PERMANENT = "permanent"  # failed; a person must look
