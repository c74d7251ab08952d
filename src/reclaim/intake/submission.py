"""Intake: a reporter's report becomes a case, with a case number and a PIN.

The report's files arrive as hashes computed on the reporter's device (the files never
leave it).  Those hashes enter the self-reported bank at once, with the case number as
provenance, so platforms can block uploads before anyone has reviewed the case; a PDQ
hash of too little quality is kept on its item but not banked.

Submission is idempotent.  The form carries a random key; a retried submission with
the same key finds the report it already made and gets the same case number back.
The PIN is derived from that key with the server's secret (and stored only as an
argon2 hash), so a reporter whose first response was lost on a bad connection still
gets their PIN from the retry: for :attr:`IntakePolicy.pin_redisplay` after the
report, and never later.  Only the idempotency key's SHA-256 is stored, so a copy of
the database does not hold what the PIN is derived from.

The caller commits: a case number is shown only after its report is committed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks import banking, videos
from reclaim.banks.domain import SELF_REPORTED_BANK, EntrySource
from reclaim.banks.models import Bank
from reclaim.cases import pages, status
from reclaim.cases.domain import CaseStatus, ItemKind, new_case_number
from reclaim.cases.items import assign_platforms
from reclaim.cases.models import Case, Item, Report
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import SignalType
from reclaim.intake.domain import FileHashes, Items, ReportInput
from reclaim.linkage import identifiers
from reclaim.linkage.identifiers import Keys
from reclaim.matching.video import FrameList
from reclaim.security.field_crypto import FieldCipher, Purpose
from reclaim.security.secret_hashes import hash_secret, verify_secret

_PIN_DIGITS = 8


@dataclass(frozen=True, slots=True)
class IntakePolicy:
    """What intake needs from the settings."""

    min_pdq_quality: int
    pin_secret: bytes
    # How long a retried submission may show the PIN again (a lost first response).
    pin_redisplay: timedelta = timedelta(minutes=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakePolicy:
        return cls(
            min_pdq_quality=settings.bank_min_pdq_quality,
            pin_secret=settings.secret_bytes,
        )


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the reporter is shown: the case number and, unless too late, the PIN."""

    case_number: str
    pin: str | None
    urgent: bool
    files: int
    repeated: bool  # a retry of a report received before
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemsAdded:
    urls: int
    files: int
    already_there: int


def reporter(case: Case) -> audit.Actor:
    """The audit trail's actor for what a reporter does in their case."""
    return audit.Actor.reporter(case.id)


def submit_report(
    session: Session,
    report: ReportInput,
    *,
    policy: IntakePolicy,
    cipher: FieldCipher,
    clock: Clock = system_clock,
    hash_pin: Callable[[str], str] = hash_secret,
    identifier_keys: Keys | None = None,
) -> Receipt:
    """Record a report as a new case (or find the one a retry already made).

    With ``identifier_keys``, the offender identifiers the report states (the urgent
    path's threatening account, profile URLs, @handles) are recorded at once, so the
    next linking run (kicked by the portal) links a new victim of a known account."""
    key_digest = idempotency_digest(report.idempotency_key)
    earlier = session.scalar(select(Report).where(Report.idempotency_key == key_digest))
    if earlier is not None:
        return _receipt_again(earlier, report.idempotency_key, policy, clock)

    now = clock()
    pin = derive_pin(policy.pin_secret, report.idempotency_key)
    case = Case(
        number=_unused_case_number(session),
        pin_hash=hash_pin(pin),
        status=CaseStatus.NEW,
        urgent=report.situation.is_threat,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    row = Report(
        case_id=case.id,
        idempotency_key=key_digest,
        reporter_role=report.reporter_role,
        age_group=report.age_group,
        situation=report.situation,
        # Children write names and schools here: encrypted like the contact.
        description=cipher.encrypt(report.description, purpose=Purpose.REPORT_DESCRIPTION)
        if report.description
        else None,
        contact=cipher.encrypt(report.contact, purpose=Purpose.REPORT_CONTACT)
        if report.contact
        else None,
        contact_consent=report.contact is not None and report.contact_consent,
        threat_account=cipher.encrypt(report.threat_account, purpose=Purpose.REPORT_THREAT_ACCOUNT)
        if report.threat_account
        else None,
        threat_platform=report.threat_platform,
        language=report.language,
        created_at=now,
    )
    session.add(row)
    session.flush()  # a concurrent retry with the same key fails here, before the rest
    _create_items(session, case, row, Items(report.urls, report.files), clock)
    if identifier_keys is not None:
        identifiers.gather(session, case, keys=identifier_keys, clock=clock)
    audit.record(
        session,
        AuditTag.REPORT_RECEIVED,
        actor=reporter(case),
        target=(TargetKind.CASE, case.id),
        details={
            "urls": len(report.urls),
            "files": len(report.files),
            "urgent": case.urgent,
            "reporter_role": report.reporter_role.value,
            "situation": report.situation.value,
            "threat_account": report.threat_account is not None,
        },
        clock=clock,
    )
    bank_file_hashes(session, case, report.files, policy=policy, clock=clock)
    return Receipt(
        case.number, pin, case.urgent, len(report.files), repeated=False, received_at=now
    )


def add_items(
    session: Session,
    case: Case,
    items: Items,
    *,
    policy: IntakePolicy,
    clock: Clock = system_clock,
) -> ItemsAdded:
    """More URLs or files for a case, from its reporter.

    What the case already holds (the same URL, a file with the same SHA-256) is not
    added twice, so a retried form changes nothing.  A closed case is reopened for
    review: new information has arrived.
    """
    live = [item for item in case.items if item.withdrawn_at is None]
    known_urls = {item.url for item in live if item.kind is ItemKind.URL}
    known_files = {
        link.signal.value
        for item in live
        if item.kind is ItemKind.FILE
        for media in item.device_media
        for link in media.signals
        if link.signal.type is SignalType.SHA256
    }
    urls = tuple(url for url in items.urls if url not in known_urls)
    files = tuple(f for f in items.files if f.sha256.value not in known_files)
    already = len(items.urls) + len(items.files) - len(urls) - len(files)
    if not urls and not files:
        return ItemsAdded(0, 0, already)
    _create_items(session, case, None, Items(urls, files), clock)
    audit.record(
        session,
        AuditTag.REPORT_ITEMS_ADDED,
        actor=reporter(case),
        target=(TargetKind.CASE, case.id),
        details={"urls": len(urls), "files": len(files)},
        clock=clock,
    )
    if not case.status.is_open:
        reopen(session, case, clock=clock)
    case.updated_at = clock()
    bank_file_hashes(session, case, files, policy=policy, clock=clock)
    return ItemsAdded(len(urls), len(files), already)


def reopen(session: Session, case: Case, *, clock: Clock) -> None:
    status.move(
        session,
        case,
        CaseStatus.IN_REVIEW,
        actor=reporter(case),
        why="reporter added items",
        clock=clock,
    )


def bank_file_hashes(
    session: Session,
    case: Case,
    files: Iterable[FileHashes],
    *,
    policy: IntakePolicy,
    clock: Clock = system_clock,
) -> banking.AddOutcome:
    """Put the files' hashes in the self-reported bank, the case number as provenance."""
    entries = [
        banking.NewEntry(signal, quality) for item in files for signal, quality in item.signals()
    ]
    for item in files:
        frames = frame_list(item)
        if frames is not None:
            entries.append(
                banking.NewEntry(
                    videos.signal_of(frames), videos.best_quality(frames), frames=frames
                )
            )
    if not entries:
        return banking.AddOutcome()
    bank = self_reported_bank(session)
    outcome = banking.add_signals(
        session,
        bank,
        entries,
        source=EntrySource.REPORT,
        source_ref=case.number,
        min_pdq_quality=policy.min_pdq_quality,
        clock=clock,
    )
    if outcome.added or outcome.reactivated:
        audit.record(
            session,
            AuditTag.SIGNAL_BANKED,
            actor=reporter(case),
            target=(TargetKind.BANK, bank.id),
            details={
                "case": case.number,
                "added": outcome.added,
                "reactivated": outcome.reactivated,
                "not_banked_low_quality": len(outcome.rejected),
            },
            clock=clock,
        )
    return outcome


def frame_list(hashed: FileHashes) -> FrameList | None:
    """A device video's vPDQ frames (numbered in order), or None when it has none."""
    if not hashed.frames:
        return None
    return FrameList.from_frames((n, t, v, q) for n, (t, v, q) in enumerate(hashed.frames))


def self_reported_bank(session: Session) -> Bank:
    """The built-in bank of hashes computed on reporters' own devices (never verified)."""
    return banking.get_bank(session, SELF_REPORTED_BANK)


def derive_pin(secret: bytes, idempotency_key: str) -> str:
    """The PIN of the report made with this key: eight digits, from an HMAC."""
    digest = hmac.new(secret, b"report-pin\0" + idempotency_key.encode(), hashlib.sha256)
    number = int.from_bytes(digest.digest()[:8], "big") % 10**_PIN_DIGITS
    return f"{number:0{_PIN_DIGITS}d}"


def idempotency_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _receipt_again(earlier: Report, key: str, policy: IntakePolicy, clock: Clock) -> Receipt:
    case = earlier.case
    files = sum(
        1 for item in case.items if item.report_id == earlier.id and item.kind is ItemKind.FILE
    )
    pin: str | None = None
    if clock() - earlier.created_at <= policy.pin_redisplay:
        candidate = derive_pin(policy.pin_secret, key)
        # Only if it is still the case's PIN (staff may have issued a new one since).
        if verify_secret(case.pin_hash, candidate):
            pin = candidate
    return Receipt(
        case.number, pin, case.urgent, files, repeated=True, received_at=earlier.created_at
    )


def _unused_case_number(session: Session) -> str:
    # 27^8 numbers: a clash is rare, but a number must never name two cases.
    while True:
        number = new_case_number()
        if session.scalar(select(Case.id).where(Case.number == number)) is None:
            return number


def _create_items(
    session: Session, case: Case, report: Report | None, items: Items, clock: Clock
) -> None:
    now = clock()
    report_id = report.id if report is not None else None
    url_items = [
        Item(
            case_id=case.id,
            report_id=report_id,
            kind=ItemKind.URL,
            url=url,
            page=pages.page_for(session, url, now=now),
            created_at=now,
        )
        for url in items.urls
    ]
    session.add_all(url_items)
    # Each page's platform from its host; those no platform owns wait for an analyst.
    assign_platforms(session, url_items)
    for hashed in items.files:
        item = Item(
            case_id=case.id,
            report_id=report_id,
            kind=ItemKind.FILE,
            media_kind=hashed.media_kind,
            created_at=now,
        )
        session.add(item)
        media = pages.device_media(item, hashed.media_kind, now=now)
        session.flush()
        pages.attach_signals(session, media, hashed.signals(), now=now)
        frames = frame_list(hashed)
        if frames is not None:
            # The video's vPDQ from the device: its media's ``vpdq`` signal, frames stored
            # once, as review stores a fetched video's.
            signal = videos.signal_of(frames)
            pages.attach_signals(session, media, [(signal, videos.best_quality(frames))], now=now)
            ids = banking.signal_ids(session, [signal], clock=lambda: now)
            videos.store_frames(session, {ids[signal]: frames})
    session.flush()
    session.refresh(case, ["items"])
