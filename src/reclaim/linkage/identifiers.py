"""A case's offender identifiers: entered by analysts, gathered from what the case holds.

``record`` stores one normalised identifier for a case (the identifier row is shared by
every case naming it, found through its keyed hash).  ``gather`` turns what a case
already says into identifiers: the accounts analysts marked as having posted an item,
reported URLs that are profile pages, and profile URLs and @handles in reporters'
descriptions.  Nothing here links cases; ``linking.link_case`` does, after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.case_view import report_description
from reclaim.cases.models import Case, Item, Report
from reclaim.domain.clock import Clock, system_clock
from reclaim.linkage import corrections, scripts
from reclaim.linkage.domain import (
    Identifier,
    IdentifierKind,
    IdentifierSource,
    InvalidIdentifierError,
    identifier_from_url,
    identifiers_in_text,
    normalise,
    platform_of_host,
    threat_account_identifier,
)
from reclaim.linkage.models import CaseIdentifier, OffenderIdentifier, ThreatBand
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError, Purpose
from reclaim.security.lookup_hashes import LookupHasher, LookupPurpose
from reclaim.storage.bulk import insert_ignoring_duplicates


@dataclass(frozen=True, slots=True)
class Keys:
    """What identifiers are stored and found with: the field cipher and the keyed hash."""

    cipher: FieldCipher
    hasher: LookupHasher

    def lookup(self, identifier: Identifier) -> str:
        return self.hasher.digest(identifier.lookup_text, purpose=LookupPurpose.OFFENDER_IDENTIFIER)

    def reveal(self, row: OffenderIdentifier) -> str | None:
        try:
            return self.cipher.decrypt(row.value, purpose=Purpose.OFFENDER_IDENTIFIER)
        except FieldDecryptionError:
            return None


def find(session: Session, identifier: Identifier, keys: Keys) -> OffenderIdentifier | None:
    return session.scalar(
        select(OffenderIdentifier).where(OffenderIdentifier.lookup == keys.lookup(identifier))
    )


def identifier_row(
    session: Session, identifier: Identifier, keys: Keys, *, now: datetime
) -> OffenderIdentifier:
    """The shared row for an identifier, created on first use (safe against a
    concurrent writer: the lookup is unique)."""
    row = find(session, identifier, keys)
    if row is not None:
        if row.platform is None and identifier.platform is not None:
            row.platform = identifier.platform  # a later profile URL tells the platform
        return row
    insert_ignoring_duplicates(
        session,
        OffenderIdentifier.__table__,  # type: ignore[arg-type]
        [
            {
                "kind": identifier.kind.value,
                "lookup": keys.lookup(identifier),
                "value": keys.cipher.encrypt(identifier.key, purpose=Purpose.OFFENDER_IDENTIFIER),
                "platform": identifier.platform,
                "created_at": now,
            }
        ],
    )
    row = find(session, identifier, keys)
    assert row is not None
    if identifier.kind is IdentifierKind.THREAT_TEXT:
        insert_ignoring_duplicates(
            session,
            ThreatBand.__table__,  # type: ignore[arg-type]
            [
                {"identifier_id": row.id, "band": band, "digest": digest}
                for band, digest in scripts.band_digests(identifier.key, keys.hasher)
            ],
        )
    return row


def record(
    session: Session,
    case: Case,
    identifier: Identifier,
    *,
    source: IdentifierSource,
    keys: Keys,
    item_id: int | None = None,
    added_by_id: int | None = None,
    clock: Clock = system_clock,
) -> tuple[OffenderIdentifier, bool]:
    """Say that ``case`` names ``identifier``; True when this is new for the case.
    Not when a supervisor said the case does not name it (``corrections``)."""
    now = clock()
    row = identifier_row(session, identifier, keys, now=now)
    if row.id in corrections.rejected_identifiers(session, case.id):
        return row, False
    existing = session.scalar(
        select(CaseIdentifier.id).where(
            CaseIdentifier.case_id == case.id,
            CaseIdentifier.identifier_id == row.id,
            CaseIdentifier.source == source,
        )
    )
    if existing is not None:
        return row, False
    session.add(
        CaseIdentifier(
            case_id=case.id,
            identifier_id=row.id,
            source=source,
            item_id=item_id,
            added_by_id=added_by_id,
            created_at=now,
        )
    )
    session.flush()
    return row, True


def add_by_analyst(
    session: Session,
    case: Case,
    kind: IdentifierKind,
    text: str,
    *,
    actor_id: int,
    keys: Keys,
    region: str = "TW",
    clock: Clock = system_clock,
) -> OffenderIdentifier:
    """An analyst names an identifier on the case page; audited (kind, never the value:
    the audit trail is read more widely than the case)."""
    identifier = normalise(kind, text, region=region)
    row, new = record(
        session,
        case,
        identifier,
        source=IdentifierSource.ANALYST,
        keys=keys,
        added_by_id=actor_id,
        clock=clock,
    )
    if not new and row.id in corrections.rejected_identifiers(session, case.id):
        raise InvalidIdentifierError("rejected", "a supervisor said this case does not name it")
    if new:
        audit.record(
            session,
            AuditTag.IDENTIFIER_ADDED,
            actor=audit.Actor.user(actor_id),
            target=(TargetKind.CASE, case.id),
            details={"kind": identifier.kind.value, "identifier": row.id},
            clock=clock,
        )
    return row


def found_in_case(
    session: Session, case: Case, keys: Keys | None = None
) -> list[tuple[Identifier, IdentifierSource, int | None]]:
    """Identifiers the case already states: posted-by accounts, profile URLs reported as
    items, profile URLs and @handles in the reporters' descriptions."""
    found: list[tuple[Identifier, IdentifierSource, int | None]] = []
    items = session.execute(
        select(Item.id, Item.url, Item.posted_by).where(Item.case_id == case.id)
    ).all()
    for item_id, url, posted_by in items:
        if posted_by:
            # Free text ("a user called…") is no handle: the analyst can enter it properly.
            with contextlib.suppress(InvalidIdentifierError):
                handle = normalise(IdentifierKind.HANDLE, posted_by)
                found.append((handle, IdentifierSource.POSTED_BY, item_id))
        if url:
            from_url = identifier_from_url(url)
            if from_url is not None:
                found.append((from_url, IdentifierSource.ITEM_URL, item_id))
    reports: Iterable[Report] = session.scalars(select(Report).where(Report.case_id == case.id))
    for report in reports:
        # Descriptions are encrypted since issue 16 (older ones are as typed); without
        # keys only unencrypted ones can be read.
        description = (
            report_description(report, keys.cipher) if keys is not None else report.description
        )
        for identifier in identifiers_in_text(description or ""):
            found.append((identifier, IdentifierSource.DESCRIPTION, None))
    if keys is not None:
        found += threat_accounts(session, case, keys.cipher)
    return found


def from_page(
    session: Session,
    case: Case,
    item_id: int,
    page_url: str,
    author_urls: Iterable[str],
    *,
    keys: Keys,
    clock: Clock = system_clock,
) -> int:
    """Identifiers a fetched page gives by its structure: the author it declares, when
    that is a profile URL on the page's own platform (an Instagram post's author is an
    Instagram account; a blog's link to its writer's X account says nothing reliable).
    How many were new to the case."""
    host = urlsplit(page_url).hostname or ""
    platform = platform_of_host(host)
    if platform is None:
        return 0
    added = 0
    for url in author_urls:
        identifier = identifier_from_url(url)
        if identifier is None:
            continue
        on_platform = identifier.platform == platform or (
            platform == "line" and identifier.kind is IdentifierKind.LINE_ID
        )
        if on_platform:
            _row, new = record(
                session,
                case,
                identifier,
                source=IdentifierSource.PAGE,
                keys=keys,
                item_id=item_id,
                clock=clock,
            )
            added += new
    return added


def threat_accounts(
    session: Session, case: Case, cipher: FieldCipher
) -> list[tuple[Identifier, IdentifierSource, int | None]]:
    """ "The account threatening you" from the urgent path (issue 16), each report's:
    the reporter's own words about the offender, so an identifier of the case."""
    found: list[tuple[Identifier, IdentifierSource, int | None]] = []
    for account, platform in session.execute(
        select(Report.threat_account, Report.threat_platform).where(
            Report.case_id == case.id, Report.threat_account.is_not(None)
        )
    ):
        if account is None:
            continue
        try:
            text = cipher.decrypt(account, purpose=Purpose.REPORT_THREAT_ACCOUNT)
        except FieldDecryptionError:
            continue
        identifier = threat_account_identifier(text, platform)
        if identifier is not None:
            found.append((identifier, IdentifierSource.REPORTER, None))
    return found


def gather(session: Session, case: Case, *, keys: Keys, clock: Clock = system_clock) -> int:
    """Record what ``found_in_case`` finds; how many were new to the case."""
    added = 0
    for identifier, source, item_id in found_in_case(session, case, keys):
        _row, new = record(
            session, case, identifier, source=source, keys=keys, item_id=item_id, clock=clock
        )
        added += new
    return added


@dataclass(frozen=True, slots=True)
class CaseIdentifierView:
    identifier_id: int
    kind: IdentifierKind
    value: str | None  # None: could not be decrypted
    platform: str | None
    sources: tuple[IdentifierSource, ...]
    other_cases: int  # how many other cases name it


def case_identifiers(session: Session, case_id: int, keys: Keys) -> list[CaseIdentifierView]:
    """The identifiers a case names, each once with all its sources."""
    rows = session.execute(
        select(CaseIdentifier.source, OffenderIdentifier)
        .join(OffenderIdentifier, OffenderIdentifier.id == CaseIdentifier.identifier_id)
        .where(CaseIdentifier.case_id == case_id)
        .order_by(OffenderIdentifier.kind, OffenderIdentifier.id)
    ).all()
    sources: dict[int, list[IdentifierSource]] = {}
    identifiers: dict[int, OffenderIdentifier] = {}
    for source, row in rows:
        sources.setdefault(row.id, []).append(IdentifierSource(source))
        identifiers[row.id] = row
    others = other_case_counts(session, list(identifiers), case_id)
    return [
        CaseIdentifierView(
            row.id,
            IdentifierKind(row.kind),
            keys.reveal(row),
            row.platform,
            tuple(sorted(set(sources[row.id]))),
            others.get(row.id, 0),
        )
        for row in identifiers.values()
    ]


def other_case_counts(session: Session, identifier_ids: list[int], case_id: int) -> dict[int, int]:
    if not identifier_ids:
        return {}
    counts: dict[int, set[int]] = {}
    for identifier_id, other in session.execute(
        select(CaseIdentifier.identifier_id, CaseIdentifier.case_id).where(
            CaseIdentifier.identifier_id.in_(identifier_ids), CaseIdentifier.case_id != case_id
        )
    ):
        counts.setdefault(identifier_id, set()).add(other)
    return {identifier_id: len(cases) for identifier_id, cases in counts.items()}


def keys_for(cipher: FieldCipher, secret: bytes) -> Keys:
    """The keys from the configured cipher and the server's secret (settings.secret_bytes)."""
    return Keys(cipher, LookupHasher(secret))
