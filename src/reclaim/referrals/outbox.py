"""Sending referrals to agencies exactly once, by the notice outbox's protocol.

The same transports (``takedown.outbox.Senders``), states (``DELIVERY_MACHINE``) and
commit point as notices (see takedown/outbox.py for why each step is committed
before the next): ``pending`` → ``sending`` → ``committing`` → ``sent``; an email
whose worker died after the point of no return becomes ``unconfirmed`` and is never
sent twice; a webhook is retried with the same Idempotency-Key.

What leaves is a message that a referral is waiting, never the case content: the
agency's staff read what was shared in the console and download the signed evidence
package there (docs/agencies.md).  The email carries a one-time link to acknowledge
and answer without logging in; the webhook carries the same link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.config import Settings
from reclaim.delivery import (
    EmailMessage,
    PermanentDeliveryError,
    RetryPolicy,
    TemporaryDeliveryError,
    WebhookMessage,
    make_message_id,
    message_id_domain,
)
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.states import IllegalTransitionError
from reclaim.referrals import referring
from reclaim.referrals.domain import ReferralRefused, ReferralStatus
from reclaim.referrals.models import ReferralDelivery
from reclaim.referrals.tokens import answer_token, answer_url
from reclaim.security.field_crypto import FieldCipher, Purpose
from reclaim.takedown.domain import (
    CLAIMABLE,
    DELIVERY_MACHINE,
    Channel,
    DeliveryPurpose,
    DeliveryStatus,
)
from reclaim.takedown.outbox import LEASE, Senders

#: What an agency's webhook reply may say.
REPLY_STATUSES = ("acknowledged", "accepted", "declined")


def move(delivery: ReferralDelivery, status: DeliveryStatus) -> None:
    delivery.status = DELIVERY_MACHINE.check(delivery.status, status)


@dataclass(frozen=True, slots=True)
class ReferralOutbox:
    sessions: sessionmaker[Session]
    senders: Senders
    settings: Settings
    cipher: FieldCipher
    retry: RetryPolicy
    clock: Clock = system_clock

    def due(self, limit: int = 100) -> list[int]:
        now = self.clock()
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ReferralDelivery.id)
                    .where(
                        or_(
                            (ReferralDelivery.status == DeliveryStatus.PENDING)
                            & (ReferralDelivery.next_attempt_at <= now),
                            ReferralDelivery.status.in_(
                                [DeliveryStatus.SENDING, DeliveryStatus.COMMITTING]
                            )
                            & (ReferralDelivery.sending_started_at <= now - LEASE),
                        )
                    )
                    .order_by(ReferralDelivery.id)
                    .limit(limit)
                )
            )

    def run_due(self, rounds: int = 5) -> dict[str, int]:
        """Try every due delivery once, looking again for what was queued meanwhile
        (as the notice outbox does: a job enqueued during this run is skipped)."""
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

    def deliver(self, delivery_id: int) -> DeliveryStatus:
        claimed = self._claim(delivery_id)
        if isinstance(claimed, DeliveryStatus):
            return claimed

        def commit_point() -> None:
            with self.sessions.begin() as session:
                move(session.get_one(ReferralDelivery, delivery_id), DeliveryStatus.COMMITTING)

        try:
            if isinstance(claimed, EmailMessage):
                receipt = self.senders.email.send(claimed, commit_point=commit_point)
            else:
                receipt = self.senders.webhook.send(claimed, commit_point=commit_point)
        except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
            return self._failed(delivery_id, exc)
        with self.sessions.begin() as session:
            delivery = session.get_one(ReferralDelivery, delivery_id)
            move(delivery, DeliveryStatus.SENT)
            delivery.sent_at = self.clock()
            delivery.remote_id = receipt.remote_id
        if isinstance(claimed, WebhookMessage):
            self._reply(delivery_id, receipt.detail)
        return DeliveryStatus.SENT

    def _reply(self, delivery_id: int, detail: str) -> None:
        """An agency may answer in its webhook reply (docs/agencies.md):
        ``{"status": "acknowledged" | "accepted" | "declined", "outcome": ..., "text": ...}``.
        A reply that does not fit the referral's state is ignored (the delivery stands)."""
        try:
            reply = json.loads(detail)
        except ValueError:
            return
        if not isinstance(reply, dict) or reply.get("status") not in REPLY_STATUSES:
            return
        outcome = reply.get("outcome")
        try:
            with self.sessions.begin() as session:
                referral = session.get_one(ReferralDelivery, delivery_id).referral
                referring.answer(
                    session,
                    referral,
                    ReferralStatus(reply["status"]),
                    actor=audit.SYSTEM,
                    who=f"agency {referral.agency_id} (webhook reply)",
                    outcome=outcome if isinstance(outcome, str) and outcome else None,
                    text=str(reply.get("text") or "")[:4000],
                    clock=self.clock,
                )
        except (ReferralRefused, IllegalTransitionError):
            return

    def _claim(self, delivery_id: int) -> DeliveryStatus | EmailMessage | WebhookMessage:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.scalars(
                select(ReferralDelivery).where(ReferralDelivery.id == delivery_id).with_for_update()
            ).one()
            stale = (
                delivery.sending_started_at is None or delivery.sending_started_at <= now - LEASE
            )
            in_flight = delivery.status in {DeliveryStatus.SENDING, DeliveryStatus.COMMITTING}
            if in_flight and not stale:
                return delivery.status  # another worker is sending it right now
            if delivery.status is DeliveryStatus.COMMITTING:
                # The worker died after the point of no return: never a second email.
                if delivery.channel is Channel.WEBHOOK:
                    move(delivery, DeliveryStatus.PENDING)
                    delivery.next_attempt_at = now
                else:
                    move(delivery, DeliveryStatus.UNCONFIRMED)
                return delivery.status
            if delivery.status not in CLAIMABLE:
                return delivery.status
            move(delivery, DeliveryStatus.SENDING)
            delivery.sending_started_at = now
            delivery.attempts += 1
            try:
                return self._message(delivery)
            except ValueError as exc:
                move(delivery, DeliveryStatus.FAILED)
                delivery.last_error = str(exc)[:1000]
                return DeliveryStatus.FAILED

    def _failed(
        self, delivery_id: int, error: TemporaryDeliveryError | PermanentDeliveryError
    ) -> DeliveryStatus:
        now = self.clock()
        with self.sessions.begin() as session:
            delivery = session.get_one(ReferralDelivery, delivery_id)
            delivery.last_error = str(error)[:1000]
            uncertain = getattr(error, "possibly_delivered", False)
            if uncertain and delivery.channel is Channel.EMAIL:
                move(delivery, DeliveryStatus.UNCONFIRMED)
            elif isinstance(error, PermanentDeliveryError) or self.retry.exhausted(
                delivery.attempts
            ):
                move(delivery, DeliveryStatus.FAILED)
            else:
                move(delivery, DeliveryStatus.PENDING)
                delay = self.retry.delay(delivery.attempts, error)
                delivery.next_attempt_at = now + timedelta(seconds=delay)
            return delivery.status

    def _message(self, delivery: ReferralDelivery) -> EmailMessage | WebhookMessage:
        referral = delivery.referral
        agency = referral.agency
        reminder = delivery.purpose is DeliveryPurpose.REMINDER
        link = ""
        if referral.answer_token_hash:
            secret = self.settings.secret_key.get_secret_value().encode()
            link = answer_url(self.settings, answer_token(secret, referral))
        console = f"{self.settings.base_url.rstrip('/')}/console/referred/{referral.reference}"
        if delivery.channel is Channel.WEBHOOK:
            if not agency.webhook_url or not agency.webhook_secret:
                raise ValueError(f"{agency.name} has no webhook URL or secret")
            document = {
                "referral": referral.reference,
                "case": referral.case.number,
                "mandatory": referral.mandatory,
                "deadline": referral.deadline_at.isoformat() if referral.deadline_at else None,
                "shares": referral.sent_shares or [],
                "console_url": console,
                "answer_url": link or None,
            }
            return WebhookMessage(
                url=agency.webhook_url,
                secret=self.cipher.decrypt(agency.webhook_secret, purpose=Purpose.WEBHOOK_SECRET),
                body=json.dumps(document, ensure_ascii=False).encode(),
                idempotency_key=delivery.idempotency_key,
                event="referral.reminder" if reminder else "referral.sent",
            )
        if not agency.email:
            raise ValueError(f"{agency.name} has no email")
        subject = (
            f"{'Reminder: ' if reminder else ''}Referral {referral.reference} "
            f"from {self.settings.hotline_name} / 轉介 {referral.reference}"
        )
        lines = [
            f"{self.settings.hotline_name} refers case {referral.case.number} to {agency.name}.",
            f"本熱線將案件 {referral.case.number} 轉介給 {agency.name}。",
            "",
        ]
        if referral.deadline_at is not None:
            lines.append(f"Legal deadline / 法定期限: {referral.deadline_at.isoformat()}")
        lines += [
            f"Read what was shared and download the signed evidence package: {console}",
            f"請登入閱覽轉介內容並下載已簽章的證據包：{console}",
        ]
        if link:
            lines += ["", f"Acknowledge or answer (one-time link) / 確認收件或回覆：{link}"]
        domain = message_id_domain(self.settings.mail_from)
        return EmailMessage(
            from_addr=self.settings.mail_from,
            to_addrs=(agency.email,),
            subject=subject,
            text_body="\n".join(lines) + "\n",
            html_body=None,
            message_id=make_message_id(delivery.idempotency_key, domain),
            headers=(("X-Reclaim-Referral", referral.reference),),
            reply_to=self.settings.hotline_email or None,
            language="zh-TW",
        )
