"""Notice transports: email over SMTP and signed webhooks, behind one protocol.

The notice service renders a notice into an :class:`EmailMessage` or a
:class:`WebhookMessage` and hands it to a :class:`Transport`; the transport either
returns a :class:`DeliveryReceipt` or raises :class:`TemporaryDeliveryError` (retry
after :meth:`RetryPolicy.delay`) or :class:`PermanentDeliveryError` (a person must
look).  Transports keep no state between calls and never retry on their own; the
outbox does.  This package knows nothing of storage, services, the web layer or
jobs (an import-linter contract says so).
"""

from reclaim.delivery.message import (
    EmailMessage,
    WebhookMessage,
    build_mime,
    make_message_id,
    message_id_domain,
)
from reclaim.delivery.signing import (
    ReplayError,
    ReplayGuard,
    SignatureError,
    VerifiedSignature,
    sign,
    verify,
)
from reclaim.delivery.smtp import SmtpSettings, SmtpTransport
from reclaim.delivery.transport import (
    DeliveryError,
    DeliveryReceipt,
    PermanentDeliveryError,
    RetryPolicy,
    TemporaryDeliveryError,
    Transport,
    backoff_ceiling,
    next_delay,
)
from reclaim.delivery.webhook import WebhookTransport

__all__ = [
    "DeliveryError",
    "DeliveryReceipt",
    "EmailMessage",
    "PermanentDeliveryError",
    "ReplayError",
    "ReplayGuard",
    "RetryPolicy",
    "SignatureError",
    "SmtpSettings",
    "SmtpTransport",
    "TemporaryDeliveryError",
    "Transport",
    "VerifiedSignature",
    "WebhookMessage",
    "WebhookTransport",
    "backoff_ceiling",
    "build_mime",
    "make_message_id",
    "message_id_domain",
    "next_delay",
    "sign",
    "verify",
]
