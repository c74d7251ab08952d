"""The monthly report, emailed to every supervisor through an outbox.

On the first of each month the scheduled job commits one ``Mailing`` per active
supervisor for the month before (once: a second run finds them there), then sends the
pending ones — outside any transaction, each marked sent or failed after.  The email
carries the month's headline figures (aggregates only) and the link to the full report
in the console, where the supervisor logs in to download it (zh_TW or en, PDF or HTML):
the report does not travel by email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.config import Settings
from reclaim.delivery import (
    DeliveryError,
    EmailMessage,
    PermanentDeliveryError,
    Transport,
    make_message_id,
    message_id_domain,
)
from reclaim.documents.words import Wording, _
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.times import local
from reclaim.statistics.domain import MAILING_MACHINE, Filter, MailingStatus, Period, previous_month
from reclaim.statistics.figures import compute
from reclaim.statistics.models import Mailing

MAX_ATTEMPTS = 5

SUBJECT = _("%(hotline)s: monthly statistics for %(period)s")
LINES = (
    _("Reports: %(value)s"),
    _("Cases: %(value)s (urgent: %(urgent)s)"),
    _("Pages noticed: %(value)s; removed: %(removed)s"),
    _("Median hours to removal: %(value)s"),
    _("Removed within the legal deadline: %(value)s"),
)
LINK = _("The full report (PDF or HTML, in Chinese or English), after logging in: %(url)s")


def last_month(now: datetime, zone: object) -> Period:
    today = local(now, zone).date()  # type: ignore[arg-type]
    year, month = previous_month(today)
    return Period.month(year, month, zone)  # type: ignore[arg-type]


def queue_monthly(session: Session, period: Period) -> int:
    """A pending mailing for each active supervisor who has none for this month yet."""
    name = f"{period.first:%Y-%m}"
    already = set(session.scalars(select(Mailing.recipient_id).where(Mailing.period == name)))
    supervisors = session.scalars(
        select(User.id).where(User.role == Role.SUPERVISOR, User.is_active.is_(True))
    ).all()
    made = 0
    for user_id in supervisors:
        if user_id not in already:
            session.add(Mailing(period=name, recipient_id=user_id, status=MailingStatus.PENDING))
            made += 1
    session.flush()
    return made


@dataclass(frozen=True, slots=True)
class Outgoing:
    mailing_id: int
    address: str
    period: str


def message_for(
    session: Session, outgoing: Outgoing, settings: Settings, wording: Wording, now: datetime
) -> EmailMessage:
    year, month = (int(part) for part in outgoing.period.split("-"))
    figures = compute(session, Filter(Period.month(year, month, wording.zone)), now)
    overall = figures.overall
    median = overall.time_to_removal.median_hours
    values: tuple[dict[str, object], ...] = (
        {"value": figures.intake.reports},
        {"value": figures.intake.cases, "urgent": figures.intake.urgent_cases},
        {"value": overall.pages, "removed": overall.removed},
        {"value": "—" if median is None else f"{median:.1f}"},
        {"value": "—" if overall.compliance is None else f"{overall.compliance * 100:.1f}%"},
    )
    url = f"{settings.base_url.rstrip('/')}/console/statistics/monthly.pdf?month={outgoing.period}"
    text = "\n".join(
        [
            *(wording.say(line, **v) for line, v in zip(LINES, values, strict=True)),
            "",
            wording.say(LINK, url=url),
        ]
    )
    return EmailMessage(
        from_addr=settings.mail_from,
        to_addrs=(outgoing.address,),
        subject=wording.say(SUBJECT, hotline=settings.hotline_name, period=outgoing.period),
        text_body=text + "\n",
        html_body=None,
        message_id=make_message_id(
            f"statistics-{outgoing.mailing_id}", message_id_domain(settings.mail_from)
        ),
        language=wording.language.tag,
    )


def send_pending(
    sessions: sessionmaker[Session],
    transport: Transport[EmailMessage],
    settings: Settings,
    wording: Wording,
    *,
    clock: Clock = system_clock,
) -> dict[str, int]:
    """Send every pending mailing once; the network call happens between transactions."""
    with sessions() as session:
        due = [
            Outgoing(m.id, email, m.period)
            for m, email in session.execute(
                select(Mailing, User.email)
                .join(User, User.id == Mailing.recipient_id)
                .where(Mailing.status == MailingStatus.PENDING)
                .order_by(Mailing.id)
            ).all()
        ]
        messages = [(o, message_for(session, o, settings, wording, clock())) for o in due]
    counts = {"sent": 0, "failed": 0, "retry": 0}
    for outgoing, message in messages:
        error: str | None = None
        permanent = False
        try:
            transport.send(message)
        except PermanentDeliveryError as exc:
            error, permanent = str(exc), True
        except DeliveryError as exc:
            error = str(exc)
        with sessions.begin() as session:
            mailing = session.get_one(Mailing, outgoing.mailing_id)
            mailing.attempts += 1
            if error is None:
                mailing.status = MAILING_MACHINE.check(mailing.status, MailingStatus.SENT)
                mailing.sent_at = clock()
                counts["sent"] += 1
            elif permanent or mailing.attempts >= MAX_ATTEMPTS:
                mailing.status = MAILING_MACHINE.check(mailing.status, MailingStatus.FAILED)
                mailing.last_error = error
                counts["failed"] += 1
            else:
                mailing.last_error = error
                counts["retry"] += 1
    return counts
