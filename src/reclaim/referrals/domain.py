"""Referrals: pure values, the referral state machine and the rules for what may go.

A referral sends one case to one agency (a county's social affairs bureau or the 113
line, a police unit, a prosecutor's office, another hotline).  Two questions decide a
referral, and they are kept apart (docs/operators.md):

* **whether** the agency hears of the case: for a minor's sexual exploitation the law
  makes it a duty with a deadline (Child and Youth Sexual Exploitation Prevention Act
  art. 7: report within 24 hours), so the referral is proposed automatically and goes
  without consent; for adults nothing leaves without consent;
* **what** goes with it: the reporter's contact details and their own words go only
  with the matching consent (:func:`allowed_shares`), withdrawn consent stops what has
  not yet been sent.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reclaim.domain.states import StateMachine


class AgencyKind(enum.StrEnum):
    SOCIAL_SERVICES = "social_services"  # a county's social affairs bureau, the 113 line
    POLICE = "police"
    PROSECUTOR = "prosecutor"
    HOTLINE = "hotline"  # another hotline (INHOPE member, the sexual image centre)

    @property
    def investigates(self) -> bool:
        """Police and prosecutors: referring to them puts a legal hold on the case."""
        return self in (AgencyKind.POLICE, AgencyKind.PROSECUTOR)


class ReferralStatus(enum.StrEnum):
    DRAFT = "draft"  # proposed or written, not sent; may still change
    SENT = "sent"  # queued in the outbox for the agency
    ACKNOWLEDGED = "acknowledged"  # the agency confirmed receipt
    ACCEPTED = "accepted"  # the agency took the case on
    DECLINED = "declined"  # the agency will not act (reason kept)
    EXPIRED = "expired"  # no answer before the referral's expiry
    CANCELLED = "cancelled"  # a draft that was never sent
    CLOSED = "closed"  # the agency reported its outcome, or the hotline closed it


REFERRAL_MACHINE = StateMachine(
    ReferralStatus,
    {
        ReferralStatus.DRAFT: frozenset({ReferralStatus.SENT, ReferralStatus.CANCELLED}),
        ReferralStatus.SENT: frozenset(
            {
                ReferralStatus.ACKNOWLEDGED,
                ReferralStatus.ACCEPTED,
                ReferralStatus.DECLINED,
                ReferralStatus.EXPIRED,
            }
        ),
        ReferralStatus.ACKNOWLEDGED: frozenset(
            {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.EXPIRED}
        ),
        ReferralStatus.ACCEPTED: frozenset({ReferralStatus.CLOSED}),
        ReferralStatus.DECLINED: frozenset({ReferralStatus.CLOSED}),
        ReferralStatus.EXPIRED: frozenset({ReferralStatus.CLOSED}),
        ReferralStatus.CANCELLED: frozenset(),
        ReferralStatus.CLOSED: frozenset(),
    },
)

#: Statuses in which the agency holds the case (its staff may read what was shared).
DELIVERED = frozenset(
    {
        ReferralStatus.SENT,
        ReferralStatus.ACKNOWLEDGED,
        ReferralStatus.ACCEPTED,
        ReferralStatus.DECLINED,
        ReferralStatus.EXPIRED,
        ReferralStatus.CLOSED,
    }
)
#: Statuses still waiting for the agency (reminders and expiry apply).
AWAITING_AGENCY = frozenset({ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED})


class Share(enum.StrEnum):
    """What a referral carries.  URLs, hashes and the custody record always go."""

    CASE = "case"  # reference, status, URLs, hashes, fetch times, notices and outcomes
    DECISIONS = "decisions"  # analysts' decisions with who and when
    CONTACT = "contact"  # the reporter's contact details (consent needed)
    WORDS = "words"  # the reporter's own description (consent needed)
    MEDIA = "media"  # quarantined media, encrypted to the agency's public key


class ConsentSubject(enum.StrEnum):
    SOCIAL_WORKER = "social_worker"  # a social worker may contact me
    POLICE = "police"  # my own words and contact may go to the police


class ConsentHow(enum.StrEnum):
    PORTAL = "portal"  # the reporter answered on their case page
    PHONE = "phone"  # an analyst asked on the phone
    IN_PERSON = "in_person"
    WRITTEN = "written"  # a letter or an email


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The reporter's latest answer to each question (None: never asked)."""

    social_worker: bool | None = None
    police: bool | None = None

    def for_kind(self, kind: AgencyKind) -> bool:
        answer = self.social_worker if kind is AgencyKind.SOCIAL_SERVICES else self.police
        return bool(answer)


def consent_subject(kind: AgencyKind) -> ConsentSubject:
    return (
        ConsentSubject.SOCIAL_WORKER
        if kind is AgencyKind.SOCIAL_SERVICES
        else ConsentSubject.POLICE
    )


class ReferralRefused(ValueError):
    """A referral that may not be made or sent; ``code`` names why (for the page)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def allowed_shares(
    requested: Iterable[Share], *, kind: AgencyKind, consent: ConsentState, minor: bool
) -> frozenset[Share]:
    """What may go: the reporter's contact and words only with the matching consent.

    An adult's case goes nowhere without consent (raises); a minor's case goes to the
    authorities anyway (the law's duty to report), without what consent did not cover.
    """
    consented = consent.for_kind(kind)
    if not minor and not consented:
        raise ReferralRefused("no_consent", "an adult's case is referred only with consent")
    wanted = frozenset(requested) | {Share.CASE}
    if not consented:
        wanted -= {Share.CONTACT, Share.WORDS}
    return wanted


@dataclass(frozen=True, slots=True)
class ReferralPolicy:
    """Deadlines and follow-up, from settings."""

    mandatory_hours: int = 24  # art. 7: report a minor's exploitation within 24 hours
    reminder_hours: int = 24
    expiry_days: int = 14
    retention_days: int = 180  # art. 8: the platforms' legal retention

    def deadline(self, decided_at: datetime) -> datetime:
        return decided_at + timedelta(hours=self.mandatory_hours)

    def next_reminder(self, after: datetime) -> datetime:
        return after + timedelta(hours=self.reminder_hours)

    def expires(self, sent_at: datetime) -> datetime:
        return sent_at + timedelta(days=self.expiry_days)

    def keep_until(self, referred_at: datetime) -> datetime:
        return referred_at + timedelta(days=self.retention_days)


def canonical_json(value: Any) -> bytes:
    """The one byte form of JSON that is hashed and signed (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def custody_digest(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """The hash of one custody log entry, chained to the one before it."""
    return hashlib.sha256(prev_hash.encode() + canonical_json(dict(entry))).hexdigest()


CUSTODY_GENESIS = "0" * 64


class CustodyAction(enum.StrEnum):
    EXPORTED = "exported"  # an evidence package was built (its SHA-256 is recorded)
    TRANSFERRED = "transferred"  # the referral left for the agency
    ACKNOWLEDGED = "acknowledged"  # the agency confirmed receipt
    OUTCOME = "outcome"  # the agency reported what it did
