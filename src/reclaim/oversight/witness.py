"""Sending each audit checkpoint to a witness outside the hotline.

A checkpoint file on the hotline's own storage can be deleted by whoever controls that
storage; a copy in someone else's mailbox or system cannot.  Both transports are the
notices' own (SMTP with STARTTLS by default; the webhook through the safe fetcher,
signed with an HMAC of the body under a key derived from ``RECLAIM_SECRET_KEY``).  A
failed send is reported and not retried: the next checkpoint carries the newer head,
which anchors everything before it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from reclaim.config import Settings
from reclaim.delivery import (
    DeliveryError,
    EmailMessage,
    WebhookMessage,
    make_message_id,
    message_id_domain,
)
from reclaim.delivery.factory import smtp_transport, webhook_transport
from reclaim.domain.clock import Clock, system_clock

log = logging.getLogger(__name__)
EVENT = "audit.checkpoint"


def witness_secret(settings: Settings) -> str:
    """The webhook signing secret a witness uses to check where a checkpoint came from."""
    return hmac.new(settings.secret_bytes, b"reclaim audit witness", hashlib.sha256).hexdigest()


def send_to_witnesses(
    settings: Settings, document: Mapping[str, Any], *, clock: Clock = system_clock
) -> list[str]:
    """Send the checkpoint to each configured witness; return the problems (empty: all
    sent).  Call it outside any database transaction."""
    body = json.dumps(document, sort_keys=True, indent=2)
    sequence = int(document["sequence"])
    problems: list[str] = []
    if settings.audit_witness_email:
        message = EmailMessage(
            from_addr=settings.mail_from,
            to_addrs=(settings.audit_witness_email,),
            subject=f"{settings.hotline_name} audit checkpoint {sequence}",
            text_body=body + "\n",
            html_body=None,
            message_id=make_message_id(
                f"audit-checkpoint-{sequence}", message_id_domain(settings.mail_from)
            ),
        )
        try:
            smtp_transport(settings, clock=clock).send(message)
        except DeliveryError as exc:
            problems.append(f"email to the witness failed: {exc}")
    if settings.audit_witness_webhook_url:
        hook = WebhookMessage(
            url=settings.audit_witness_webhook_url,
            secret=witness_secret(settings),
            body=body.encode(),
            idempotency_key=f"audit-checkpoint-{sequence}",
            event=EVENT,
        )
        try:
            webhook_transport(settings, clock=clock).send(hook)
        except DeliveryError as exc:
            problems.append(f"webhook to the witness failed: {exc}")
    for problem in problems:
        log.warning("audit checkpoint %s: %s", sequence, problem)
    return problems
