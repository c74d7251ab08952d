"""Sending each audit checkpoint to a witness outside the hotline.

A checkpoint file on the hotline's own storage can be deleted by whoever controls that
storage; a copy in someone else's mailbox or system cannot.  Both transports are the
notices' own (SMTP with STARTTLS by default; the webhook through the safe fetcher,
signed with an HMAC of the body under a key derived from ``RECLAIM_SECRET_KEY``).

The workers' checkpoint job sends each witness copy as its own queued job
(``oversight.tasks``), retried on failure with the outbox's backoff and attempt limit
(``RECLAIM_DELIVERY_RETRY_*``, ``RECLAIM_DELIVERY_MAX_ATTEMPTS``): a witness that is
down for an hour still receives every checkpoint.  The webhook keeps its
``Idempotency-Key`` and the email its Message-ID across tries, so a witness can drop a
repeat.  ``reclaim audit checkpoint`` sends at once and reports what failed.
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


#: The ways a checkpoint can reach a witness (each configured by its own setting).
CHANNELS = ("email", "webhook")


def witness_channels(settings: Settings) -> list[str]:
    """The channels with a witness configured."""
    targets = (settings.audit_witness_email, settings.audit_witness_webhook_url)
    return [channel for channel, target in zip(CHANNELS, targets, strict=True) if target]


def send_witness(
    settings: Settings, document: Mapping[str, Any], channel: str, *, clock: Clock = system_clock
) -> None:
    """Send the checkpoint to the witness on ``channel``; a failure raises DeliveryError
    (TemporaryDeliveryError: worth trying again)."""
    body = json.dumps(document, sort_keys=True, indent=2)
    sequence = int(document["sequence"])
    if channel == "email":
        message = EmailMessage(
            from_addr=settings.mail_from,
            to_addrs=(str(settings.audit_witness_email),),
            subject=f"{settings.hotline_name} audit checkpoint {sequence}",
            text_body=body + "\n",
            html_body=None,
            message_id=make_message_id(
                f"audit-checkpoint-{sequence}", message_id_domain(settings.mail_from)
            ),
        )
        smtp_transport(settings, clock=clock).send(message)
    elif channel == "webhook":
        hook = WebhookMessage(
            url=str(settings.audit_witness_webhook_url),
            secret=witness_secret(settings),
            body=body.encode(),
            idempotency_key=f"audit-checkpoint-{sequence}",
            event=EVENT,
        )
        webhook_transport(settings, clock=clock).send(hook)
    else:
        raise ValueError(f"unknown witness channel {channel!r}")


def send_to_witnesses(
    settings: Settings, document: Mapping[str, Any], *, clock: Clock = system_clock
) -> list[str]:
    """Send the checkpoint to each configured witness now; return the problems (empty:
    all sent).  Call it outside any database transaction."""
    problems: list[str] = []
    for channel in witness_channels(settings):
        try:
            send_witness(settings, document, channel, clock=clock)
        except DeliveryError as exc:
            problems.append(f"{channel} to the witness failed: {exc}")
    for problem in problems:
        log.warning("audit checkpoint %s: %s", document["sequence"], problem)
    return problems
