"""The outbox: sending each notice delivery once, as the platform sees it.

A delivery row is committed together with the notice change that calls for it
(services/notices.py).  Sending one goes through these states, each committed before
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
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.config import Settings
from reclaim.delivery import (
    DeliveryReceipt,
    EmailMessage,
    PermanentDeliveryError,
    RetryPolicy,
    TemporaryDeliveryError,
    WebhookMessage,
    make_message_id,
    message_id_domain,
)
from reclaim.domain.clock import Clock, system_clock
from reclaim.security.field_crypto import FieldCipher
from reclaim.takedown.models import Delivery, DeliveryAttempt, Notice
from reclaim.takedown.notices import NoticePolicy, mark_sent
from reclaim.takedown.rendering import render_notice

WEBHOOK_SECRET_PURPOSE = "platform.webhook_secret"  # noqa: S105 - a purpose label
#: A claimed delivery whose worker has not reported back in this long is taken over.
LEASE = timedelta(minutes=10)


class MessageError(Exception):
    """The delivery cannot be built (missing or unreadable contact details)."""


class EmailSender(Protocol):
    def send(
        self, message: EmailMessage, *, commit_point: Callable[[], None] | None = None
    ) -> DeliveryReceipt: ...


class WebhookSender(Protocol):
    def send(self, message: WebhookMessage) -> DeliveryReceipt: ...


@dataclass(frozen=True, slots=True)
class Senders:
    email: EmailSender
    webhook: WebhookSender


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
                            (Delivery.status == "pending") & (Delivery.next_attempt_at <= now),
                            Delivery.status.in_(["sending", "committing"])
                            & (Delivery.sending_started_at <= now - LEASE),
                        )
                    )
                    .order_by(Delivery.next_attempt_at, Delivery.id)
                    .limit(limit)
                )
            )

    def run_due(self) -> dict[str, int]:
        """Try every due delivery once; returns how many ended in each state."""
        counts: dict[str, int] = {}
        for delivery_id in self.due():
            status = self.deliver(delivery_id)
            counts[status] = counts.get(status, 0) + 1
        return counts

    # --- one delivery --------------------------------------------------------------

    def deliver(self, delivery_id: int) -> str:
        claimed = self._claim(delivery_id)
        if isinstance(claimed, str):
            return claimed
        message, attempt_id = claimed
        if self.crash_hook is not None:
            self.crash_hook("claimed")
        try:
            if isinstance(message, EmailMessage):
                receipt = self.senders.email.send(
                    message, commit_point=lambda: self._set_status(delivery_id, "committing")
                )
            else:
                self._set_status(delivery_id, "committing")
                receipt = self.senders.webhook.send(message)
        except TemporaryDeliveryError as exc:
            return self._failed(delivery_id, attempt_id, exc, permanent=False)
        except PermanentDeliveryError as exc:
            return self._failed(delivery_id, attempt_id, exc, permanent=True)
        if self.crash_hook is not None:
            self.crash_hook("after-send")
        return self._succeeded(delivery_id, attempt_id, receipt)

    def _claim(self, delivery_id: int) -> str | tuple[EmailMessage | WebhookMessage, int]:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.scalars(
                select(Delivery).where(Delivery.id == delivery_id).with_for_update()
            ).one()
            if delivery.status == "committing":
                return self._recover_uncertain(session, delivery)
            stale = delivery.sending_started_at is None or (
                delivery.sending_started_at <= now - LEASE
            )
            if delivery.status not in ("pending", "sending") or (
                delivery.status == "sending" and not stale
            ):
                return delivery.status
            delivery.status = "sending"
            delivery.sending_started_at = now
            delivery.attempts += 1
            attempt = DeliveryAttempt(delivery_id=delivery.id, started_at=now, outcome="started")
            session.add(attempt)
            try:
                message = self._message(session, delivery)
            except (ValueError, MessageError) as exc:
                # A platform record that cannot be delivered to: a person must fix it.
                delivery.status = "failed"
                delivery.last_error = attempt.detail = str(exc)[:1000]
                attempt.outcome = "permanent"
                attempt.finished_at = now
                return "failed"
            session.flush()
            return message, attempt.id

    def _recover_uncertain(self, session: Session, delivery: Delivery) -> str:
        """The worker died after the point of no return: never a second email."""
        if delivery.channel == "webhook":
            delivery.status = "pending"  # safe: the idempotency key dedupes at the platform
            delivery.next_attempt_at = self.clock()
            return "pending"
        delivery.status = "unconfirmed"
        delivery.last_error = (
            "the worker stopped after handing the message to the mail relay; it was most "
            "likely delivered and is not sent again (the next reminder repeats it)"
        )
        mark_sent(session, delivery.notice, self.policy, clock=self.clock)
        return "unconfirmed"

    def _set_status(self, delivery_id: int, status: str) -> None:
        with self.sessions.begin() as session:
            session.get_one(Delivery, delivery_id).status = status

    def _succeeded(self, delivery_id: int, attempt_id: int, receipt: DeliveryReceipt) -> str:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.get_one(Delivery, delivery_id)
            delivery.status = "sent"
            delivery.sent_at = now
            delivery.remote_id = receipt.remote_id
            delivery.last_error = (
                f"refused recipients: {', '.join(receipt.refused_recipients)}"
                if receipt.refused_recipients
                else None
            )
            attempt = session.get_one(DeliveryAttempt, attempt_id)
            attempt.finished_at = now
            attempt.outcome = "sent"
            attempt.detail = f"{receipt.response_code} {receipt.detail}"[:1000]
            mark_sent(session, delivery.notice, self.policy, clock=self.clock)
        return "sent"

    def _failed(
        self,
        delivery_id: int,
        attempt_id: int,
        error: TemporaryDeliveryError | PermanentDeliveryError,
        *,
        permanent: bool,
    ) -> str:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.get_one(Delivery, delivery_id)
            attempt = session.get_one(DeliveryAttempt, attempt_id)
            attempt.finished_at = now
            attempt.outcome = "permanent" if permanent else "temporary"
            attempt.detail = str(error)[:1000]
            delivery.last_error = str(error)[:1000]
            uncertain = getattr(error, "possibly_delivered", False)
            if uncertain and delivery.channel == "email":
                delivery.status = "unconfirmed"
                mark_sent(session, delivery.notice, self.policy, clock=self.clock)
            elif permanent or self.retry.exhausted(delivery.attempts):
                delivery.status = "failed"
                audit.record(
                    session,
                    AuditTag.NOTICE_CHANGED,
                    actor=audit.SYSTEM,
                    target=("notice", delivery.notice_id),
                    details={
                        "delivery": delivery.id,
                        "channel": delivery.channel,
                        "failed": str(error)[:200],
                    },
                    clock=self.clock,
                )
            else:
                delay = self.retry.delay(
                    delivery.attempts, error if isinstance(error, TemporaryDeliveryError) else None
                )
                delivery.status = "pending"
                delivery.next_attempt_at = now + timedelta(seconds=delay)
            return delivery.status

    # --- building the message ---------------------------------------------------------

    def _message(self, session: Session, delivery: Delivery) -> EmailMessage | WebhookMessage:
        notice: Notice = delivery.notice
        reminder = int(delivery.purpose == "reminder") and notice.reminders_sent
        rendered = render_notice(session, notice, self.settings, reminder=reminder)
        if delivery.channel == "webhook":
            secret = notice.platform.webhook_secret
            if not notice.platform.webhook_url or not secret:
                raise MessageError(f"{notice.platform.name} has no webhook URL or secret")
            return WebhookMessage(
                url=notice.platform.webhook_url,
                secret=self.cipher.decrypt(secret, purpose=WEBHOOK_SECRET_PURPOSE),
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
            language="zh-TW" if rendered.language == "zh_TW" else "en",
            references=(first,) if message_id != first else (),
        )


def _required(address: str | None, platform: str) -> str:
    if not address:
        raise MessageError(f"{platform} has no abuse email")
    return address
