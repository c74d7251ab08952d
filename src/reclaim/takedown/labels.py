"""What people read for notices, items, deliveries and checks: one label per status.

Message ids for the catalogs, one per member of each status enum, used by the console
(``{{ notice.status | label }}``) and the escalation report alike, so no page or
document shows a raw code such as ``partially_removed``.  ``LABELS`` includes the
cases' labels (classifications, case statuses): it is the one mapping the console reads.
A new enum member needs its label here (``tests/takedown/test_labels.py``).
"""

from __future__ import annotations

from reclaim.cases import labels as case_labels
from reclaim.documents.words import Labels, _
from reclaim.takedown.domain import (
    AttemptOutcome,
    Channel,
    DeliveryPurpose,
    DeliveryStatus,
    MediaOutcome,
    NoticeKind,
    NoticeStatus,
    PageOutcome,
    ResolveOutcome,
    VerificationOutcome,
)

NOTICE_STATUS = {
    NoticeStatus.DRAFT: _("Draft"),
    NoticeStatus.QUEUED: _("Being sent"),
    NoticeStatus.SENT: _("Sent to the platform"),
    NoticeStatus.ACKNOWLEDGED: _("Acknowledged by the platform"),
    NoticeStatus.REMOVED: _("Removed"),
    NoticeStatus.PARTIALLY_REMOVED: _("Partially removed"),
    NoticeStatus.REFUSED: _("Refused by the platform"),
    NoticeStatus.EXPIRED: _("Follow-up ended without removal"),
}

NOTICE_KIND = {
    NoticeKind.CONTENT: _("content"),
    NoticeKind.ACCOUNT: _("account"),
}

PAGE_OUTCOME = {
    PageOutcome.PENDING: _("Still up"),
    PageOutcome.PARTIALLY_REMOVED: _("Partly removed"),
    PageOutcome.REMOVED: _("Removed"),
    PageOutcome.NOT_FOUND: _("Not found (the platform says)"),
    PageOutcome.REFUSED: _("Refused by the platform"),
}

MEDIA_OUTCOME = {
    MediaOutcome.PENDING: _("still up"),
    MediaOutcome.REMOVED: _("removed"),
}

RESOLVE_OUTCOME = {
    ResolveOutcome.REMOVED: _("Platform says removed"),
    ResolveOutcome.NOT_FOUND: _("Platform says not found"),
    ResolveOutcome.REFUSED: _("Refused by the platform"),
}

VERIFICATION_OUTCOME = {
    VerificationOutcome.REMOVED: _("Gone"),
    VerificationOutcome.PARTIALLY_REMOVED: _("Partly gone"),
    VerificationOutcome.STILL_UP: _("Still online"),
    VerificationOutcome.CHANGED: _("Content changed (an analyst looks)"),
    VerificationOutcome.FAILED: _("Could not check (tried again later)"),
}

DELIVERY_STATUS = {
    DeliveryStatus.PENDING: _("Waiting to be sent"),
    DeliveryStatus.SENDING: _("Sending"),
    DeliveryStatus.COMMITTING: _("Being handed over"),
    DeliveryStatus.SENT: _("Delivered"),
    DeliveryStatus.UNCONFIRMED: _("Delivery not confirmed"),
    DeliveryStatus.FAILED: _("Delivery failed"),
}

DELIVERY_PURPOSE = {
    DeliveryPurpose.NOTICE: _("Notice"),
    DeliveryPurpose.REMINDER: _("Reminder"),
}

CHANNEL = {
    Channel.EMAIL: _("email"),
    Channel.WEBHOOK: _("webhook"),
}

ATTEMPT_OUTCOME = {
    AttemptOutcome.STARTED: _("started"),
    AttemptOutcome.SENT: _("delivered"),
    AttemptOutcome.TEMPORARY: _("failed, to be tried again"),
    AttemptOutcome.PERMANENT: _("failed for good"),
}

LABELS = case_labels.LABELS | Labels(
    NOTICE_STATUS,
    NOTICE_KIND,
    PAGE_OUTCOME,
    MEDIA_OUTCOME,
    RESOLVE_OUTCOME,
    VERIFICATION_OUTCOME,
    DELIVERY_STATUS,
    DELIVERY_PURPOSE,
    CHANNEL,
    ATTEMPT_OUTCOME,
)
