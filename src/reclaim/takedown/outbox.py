"""The outbox: sending each notice delivery once, as the platform sees it.

A delivery row is committed together with the notice change that calls for it
(takedown/notices.py).  Sending one goes through these states, each committed before
the next step:

``pending`` → ``sending`` (claimed; nothing has left yet) → ``committing`` (the point of
no return: for email, the message body is with the relay and only the final "." is
left to send; for a webhook, the request is about to go) → ``sent``.

A worker that dies while ``sending`` left nothing at the platform: after a lease the
delivery is simply tried again.  A worker that dies while ``committing`` may or may not
have delivered.  Emails are then *not* sent again: the delivery becomes
``unconfirmed`` and shows on the supervisor's dashboard, and the notice's next
reminder (24 hours later by default) carries the same content — so a crash can delay
a second copy, never duplicate one.  Webhooks are retried, with the same
``Idempotency-Key``, which platforms must honour (docs/webhooks.md).

Every attempt is logged (DeliveryAttempt); temporary failures are retried with
exponential backoff and jitter up to a cap, then the delivery fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.config import Settings
from reclaim.delivery import (
    DeliveryReceipt,
    EmailMessage,
    PermanentDeliveryError,
    RetryPolicy,
    TemporaryDeliveryError,
    Transport,
    WebhookMessage,
    make_message_id,
    message_id_domain,
)
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.languages import Language
from reclaim.security.field_crypto import FieldCipher, Purpose
from reclaim.takedown.domain import (
    CLAIMABLE,
    DELIVERY_MACHINE,
    AttemptOutcome,
    Channel,
    DeliveryPurpose,
    DeliveryStatus,
)
from reclaim.takedown.models import Delivery, DeliveryAttempt, Notice
from reclaim.takedown.notices import NoticePolicy, mark_sent
from reclaim.takedown.rendering import render_notice

#: A claimed delivery whose worker has not reported back in this long is taken over.
LEASE = timedelta(minutes=10)


class MessageError(Exception):
    """The delivery cannot be built (missing or unreadable contact details)."""


@dataclass(frozen=True, slots=True)
class Senders:
    """One transport per channel, both following ``reclaim.delivery.Transport``."""

    email: Transport[EmailMessage]
    webhook: Transport[WebhookMessage]


def move(delivery: Delivery, status: DeliveryStatus) -> DeliveryStatus:
    """The one way a delivery's status changes: checked against DELIVERY_MACHINE."""
    delivery.status = DELIVERY_MACHINE.check(delivery.status, status)
    return status


@dataclass(frozen=True, slots=True)
class Outbox:
    sessions: sessionmaker[Session]
    senders: Senders
    settings: Settings
    cipher: FieldCipher
    retry: RetryPolicy
    clock: Clock = system_clock
    #: Tests pass a hook to kill the worker at a step: "claimed" (nothing sent yet) or
    #: "after-send" (the platform has the message; the outcome is not recorded yet).
    crash_hook: Callable[[str], None] | None = None
    policy: NoticePolicy = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", NoticePolicy.from_settings(self.settings))

    def due(self, limit: int = 100) -> list[int]:
        now = self.clock()
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Delivery.id)
                    .where(
                        or_(
                            (Delivery.status == DeliveryStatus.PENDING)
                            & (Delivery.next_attempt_at <= now),
                            Delivery.status.in_([DeliveryStatus.SENDING, DeliveryStatus.COMMITTING])
                            & (Delivery.sending_started_at <= now - LEASE),
                        )
                    )
                    .order_by(Delivery.next_attempt_at, Delivery.id)
                    .limit(limit)
                )
            )

    def run_due(self, rounds: int = 5) -> dict[str, int]:
        """Try every due delivery once; returns how many ended in each state.

        Deliveries queued while a run is sending are sent by it too (up to ``rounds``
        looks): a delivery job enqueued meanwhile is skipped while this run holds the
        job's lease (jobs/periodic.py), so this run must not leave them to the next tick."""
        counts: dict[str, int] = {}
        tried: set[int] = set()
        for _ in range(rounds):
            fresh = [delivery_id for delivery_id in self.due() if delivery_id not in tried]
            if not fresh:
                break
            for delivery_id in fresh:
                tried.add(delivery_id)
                status = self.deliver(delivery_id)
                counts[status.value] = counts.get(status.value, 0) + 1
        return counts

    # --- one delivery --------------------------------------------------------------

    def deliver(self, delivery_id: int) -> DeliveryStatus:
        claimed = self._claim(delivery_id)
        if isinstance(claimed, DeliveryStatus):
            return claimed
        message, attempt_id = claimed
        if self.crash_hook is not None:
            self.crash_hook("claimed")

        def commit_point() -> None:
            self._set_status(delivery_id, DeliveryStatus.COMMITTING)

        try:
            if isinstance(message, EmailMessage):
                receipt = self.senders.email.send(message, commit_point=commit_point)
            else:
                receipt = self.senders.webhook.send(message, commit_point=commit_point)
        except TemporaryDeliveryError as exc:
            return self._failed(delivery_id, attempt_id, exc, permanent=False)
        except PermanentDeliveryError as exc:
            return self._failed(delivery_id, attempt_id, exc, permanent=True)
        if self.crash_hook is not None:
            self.crash_hook("after-send")
        return self._succeeded(delivery_id, attempt_id, receipt)

    def _claim(
        self, delivery_id: int
    ) -> DeliveryStatus | tuple[EmailMessage | WebhookMessage, int]:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.scalars(
                select(Delivery).where(Delivery.id == delivery_id).with_for_update()
            ).one()
            stale = delivery.sending_started_at is None or (
                delivery.sending_started_at <= now - LEASE
            )
            # Sending or committing within the lease: another worker is on it right now
            # (it listed this delivery as due before we did), not dead.
            in_flight = delivery.status in {DeliveryStatus.SENDING, DeliveryStatus.COMMITTING}
            if in_flight and not stale:
                return delivery.status
            if delivery.status is DeliveryStatus.COMMITTING:
                return self._recover_uncertain(session, delivery)
            if delivery.status not in CLAIMABLE:
                return delivery.status
            move(delivery, DeliveryStatus.SENDING)
            delivery.sending_started_at = now
            delivery.attempts += 1
            attempt = DeliveryAttempt(
                delivery_id=delivery.id, started_at=now, outcome=AttemptOutcome.STARTED
            )
            session.add(attempt)
            try:
                message = self._message(session, delivery)
            except (ValueError, MessageError) as exc:
                # A platform record that cannot be delivered to: a person must fix it.
                move(delivery, DeliveryStatus.FAILED)
                delivery.last_error = attempt.detail = str(exc)[:1000]
                attempt.outcome = AttemptOutcome.PERMANENT
                attempt.finished_at = now
                return DeliveryStatus.FAILED
            session.flush()
            return message, attempt.id

    def _recover_uncertain(self, session: Session, delivery: Delivery) -> DeliveryStatus:
        """The worker died after the point of no return: never a second email."""
        if delivery.channel is Channel.WEBHOOK:
            # Safe to send again: the idempotency key dedupes at the platform.
            delivery.next_attempt_at = self.clock()
            return move(delivery, DeliveryStatus.PENDING)
        move(delivery, DeliveryStatus.UNCONFIRMED)
        delivery.last_error = (
            "the worker stopped after handing the message to the mail relay; it was most "
            "likely delivered and is not sent again (the next reminder repeats it)"
        )
        mark_sent(session, delivery.notice, self.policy, clock=self.clock)
        return DeliveryStatus.UNCONFIRMED

    def _set_status(self, delivery_id: int, status: DeliveryStatus) -> None:
        with self.sessions.begin() as session:
            move(session.get_one(Delivery, delivery_id), status)

    def _succeeded(
        self, delivery_id: int, attempt_id: int, receipt: DeliveryReceipt
    ) -> DeliveryStatus:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.get_one(Delivery, delivery_id)
            move(delivery, DeliveryStatus.SENT)
            delivery.sent_at = now
            delivery.remote_id = receipt.remote_id
            delivery.last_error = (
                f"refused recipients: {', '.join(receipt.refused_recipients)}"
                if receipt.refused_recipients
                else None
            )
            attempt = session.get_one(DeliveryAttempt, attempt_id)
            attempt.finished_at = now
            attempt.outcome = AttemptOutcome.SENT
            attempt.detail = f"{receipt.response_code} {receipt.detail}"[:1000]
            mark_sent(session, delivery.notice, self.policy, clock=self.clock)
        return DeliveryStatus.SENT

    def _failed(
        self,
        delivery_id: int,
        attempt_id: int,
        error: TemporaryDeliveryError | PermanentDeliveryError,
        *,
        permanent: bool,
    ) -> DeliveryStatus:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.get_one(Delivery, delivery_id)
            attempt = session.get_one(DeliveryAttempt, attempt_id)
            attempt.finished_at = now
            attempt.outcome = AttemptOutcome.PERMANENT if permanent else AttemptOutcome.TEMPORARY
            attempt.detail = str(error)[:1000]
            delivery.last_error = str(error)[:1000]
            uncertain = getattr(error, "possibly_delivered", False)
            if uncertain and delivery.channel is Channel.EMAIL:
                move(delivery, DeliveryStatus.UNCONFIRMED)
                mark_sent(session, delivery.notice, self.policy, clock=self.clock)
            elif permanent or self.retry.exhausted(delivery.attempts):
                move(delivery, DeliveryStatus.FAILED)
                audit.record(
                    session,
                    AuditTag.NOTICE_CHANGED,
                    actor=audit.SYSTEM,
                    target=(TargetKind.NOTICE, delivery.notice_id),
                    details={
                        "delivery": delivery.id,
                        "channel": delivery.channel.value,
                        "failed": str(error)[:200],
                    },
                    clock=self.clock,
                )
            else:
                delay = self.retry.delay(
                    delivery.attempts, error if isinstance(error, TemporaryDeliveryError) else None
                )
                move(delivery, DeliveryStatus.PENDING)
                delivery.next_attempt_at = now + timedelta(seconds=delay)
            return delivery.status

    # --- building the message ---------------------------------------------------------

    def _message(self, session: Session, delivery: Delivery) -> EmailMessage | WebhookMessage:
        notice: Notice = delivery.notice
        reminder = int(delivery.purpose is DeliveryPurpose.REMINDER) and notice.reminders_sent
        rendered = render_notice(
            session, notice, self.settings, reminder=reminder, sending_at=self.clock()
        )
        if not reminder and notice.text is None:
            # What the platform received stays readable after sending.
            notice.subject, notice.text = rendered.subject, rendered.text
        if delivery.channel is Channel.WEBHOOK:
            secret = notice.platform.webhook_secret
            if not notice.platform.webhook_url or not secret:
                raise MessageError(f"{notice.platform.name} has no webhook URL or secret")
            return WebhookMessage(
                url=notice.platform.webhook_url,
                secret=self.cipher.decrypt(secret, purpose=Purpose.WEBHOOK_SECRET),
                body=json.dumps(rendered.document, ensure_ascii=False).encode(),
                idempotency_key=delivery.idempotency_key,
                event="notice.reminder" if reminder else "notice.sent",
            )
        domain = message_id_domain(self.settings.mail_from)
        first = make_message_id(f"{notice.reference}.notice0.email".lower(), domain)
        message_id = make_message_id(delivery.idempotency_key, domain)
        return EmailMessage(
            from_addr=self.settings.mail_from,
            to_addrs=(_required(notice.platform.abuse_email, notice.platform.name),),
            subject=rendered.subject,
            text_body=rendered.text,
            html_body=rendered.html,
            message_id=message_id,
            headers=(("X-Reclaim-Notice", notice.reference),),
            reply_to=self.settings.hotline_email or None,
            language=(Language.parse(rendered.language) or Language.EN).tag,
            references=(first,) if message_id != first else (),
        )


def _required(address: str | None, platform: str) -> str:
    if not address:
        raise MessageError(f"{platform} has no abuse email")
    return address
