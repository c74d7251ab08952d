"""The closed vocabulary of audit events: ``subject:object:action``.

Every staff action and every security-relevant system action is recorded under one of
these tags; a tag that is not here cannot be written (the enum refuses it), so the
audit trail stays searchable and reviewable.
"""

from __future__ import annotations

import enum


class AuditTag(enum.StrEnum):
    # accounts and sessions
    USER_CREATED = "account:user:created"
    USER_UPDATED = "account:user:updated"
    USER_DEACTIVATED = "account:user:deactivated"
    USER_ENROLLED = "account:user:enrolled"
    LOGIN_SUCCEEDED = "account:login:succeeded"
    LOGIN_FAILED = "account:login:failed"
    LOGGED_OUT = "account:session:ended"
    SESSIONS_REVOKED = "account:session:revoked"
    LOGIN_LOCKED = "account:login:locked"
    SECOND_FACTOR_FAILED = "account:second_factor:failed"
    ENROLMENT_LINK_CREATED = "account:enrolment:created"
    PASSWORD_CHANGED = "account:password:changed"  # noqa: S105 - an audit tag
    RECOVERY_CODES_ISSUED = "account:recovery_codes:issued"
    RECOVERY_CODE_USED = "account:recovery_code:used"
    # reports and cases
    REPORT_RECEIVED = "portal:report:received"
    REPORT_ITEMS_ADDED = "portal:items:added"
    REPORT_ITEM_WITHDRAWN = "portal:item:withdrawn"
    REPORT_CONTACT_CHANGED = "portal:contact:changed"
    CASE_CHECK_LOCKED = "portal:case_check:locked"
    QUEUE_VIEWED = "case:queue:viewed"
    CASE_VIEWED = "case:case:viewed"
    CASE_STATUS_CHANGED = "case:status:changed"
    CASE_ASSIGNED = "case:case:assigned"
    CASE_NOTE_ADDED = "case:note:added"
    ITEM_FETCHED = "case:item:fetched"
    ITEM_REVEALED = "case:item:revealed"
    ITEM_DECIDED = "case:item:decided"
    ITEM_ANNOTATED = "case:item:annotated"
    DECISION_AGREED = "case:decision:agreed"
    ITEM_FETCH_FAILED = "case:item:fetch_failed"
    ITEM_PREVIEWED = "case:item:previewed"
    QUARANTINE_PURGED = "system:quarantine:purged"
    # offender identifiers and links between cases (linkage)
    IDENTIFIER_ADDED = "case:identifier:added"
    CASES_LINKED = "case:links:added"
    CLUSTER_VIEWED = "case:cluster:viewed"
    LINK_REJECTED = "case:links:rejected"  # a supervisor said a link is wrong
    CLUSTER_REFERRED = "case:cluster:referred"  # a whole cluster sent to one agency
    CASES_SEARCHED = "case:search:performed"
    # bulk scans
    SCAN_ITEMS_ADDED = "scan:items:added"
    PATROL_WATCH_ADDED = "scan:patrol:watch_added"
    PATROL_WATCH_REMOVED = "scan:patrol:watch_removed"
    PATROL_REUPLOAD_FOUND = "scan:patrol:reupload"
    # banks
    BANK_CREATED = "bank:bank:created"
    BANK_IMPORTED = "bank:signals:imported"
    BANK_EXPORTED = "bank:signals:exported"
    SIGNAL_BANKED = "bank:signal:added"
    SIGNAL_WITHDRAWN = "bank:signal:withdrawn"
    SIGNAL_HELD = "bank:signal:held"  # the flood guard took it out of the feed
    SIGNAL_HOLD_RELEASED = "bank:signal:released"  # an analyst decided on a held hash
    ALLOW_LIST_CHANGED = "bank:allow_list:changed"  # benign hashes added or removed
    # platforms, notices, partners
    PLATFORM_CHANGED = "takedown:platform:changed"
    NOTICE_CHANGED = "takedown:notice:changed"
    ESCALATION_EXPORTED = "takedown:escalation:exported"
    NOTICE_ANSWER_RECORDED = "takedown:answer:recorded"  # a platform's reply, by email
    NOTICE_CHECK_REQUESTED = "takedown:check:requested"
    PARTNER_CHANGED = "partner:partner:changed"
    PARTNER_KEY_CREATED = "partner:key:created"
    PARTNER_KEY_REVOKED = "partner:key:revoked"
    # what partners do through the API (actor: the partner)
    PARTNER_FEEDBACK_RECEIVED = "partner:feedback:received"
    PARTNER_NOTICE_ACKNOWLEDGED = "partner:notice:acknowledged"
    PARTNER_NOTICE_RESOLVED = "partner:notice:resolved"
    # referrals, consent, evidence and legal holds (issue 13)
    AGENCY_CHANGED = "referral:agency:changed"
    AGENCY_MEMBER_CHANGED = "referral:member:changed"
    CONSENT_RECORDED = "referral:consent:recorded"
    REFERRAL_CHANGED = "referral:referral:changed"
    REFERRAL_VIEWED = "referral:referral:viewed"  # an agency member read what was shared
    REFERRAL_ANSWERED = "referral:answer:recorded"  # the agency's acknowledgement or outcome
    EVIDENCE_EXPORTED = "referral:evidence:exported"
    LEGAL_HOLD_SET = "case:hold:set"
    LEGAL_HOLD_RELEASED = "case:hold:released"
    # operations
    SETTINGS_CHANGED = "system:settings:changed"
    AUDIT_VIEWED = "audit:trail:viewed"
    AUDIT_EXPORTED = "audit:trail:exported"
    DEMO_LOADED = "system:demo:loaded"
    AUDIT_KEY_ROTATED = "system:audit_key:rotated"  # a new segment of the chain begins
    ENCRYPTION_KEY_ROTATED = "system:encryption_key:rotated"  # older values re-encrypted


class ActorKind(enum.StrEnum):
    """Who did what an audit row records."""

    USER = "user"  # a staff member (actor id: the user)
    REPORTER = "reporter"  # whoever holds a case's number and PIN (actor id: the case)
    PARTNER = "partner"  # a platform through the partner API (actor id: the partner)
    OPERATOR = "operator"  # someone at the server's command line
    SYSTEM = "system"  # a scheduled job or an automatic step
    ANONYMOUS = "anonymous"  # not logged in (failed logins)


class TargetKind(enum.StrEnum):
    """What an audit row is about (its target id names the row)."""

    CASE = "case"
    REPORT = "report"
    ITEM = "item"
    USER = "user"
    NOTICE = "notice"
    BANK = "bank"
    PARTNER = "partner"
    API_KEY = "api_key"
    PLATFORM = "platform"
    REFERRAL = "referral"
    AGENCY = "agency"
