"""What a referral shares, as one document: the evidence package's manifest and what
the agency's staff read in the console are the same thing (so the page can never show
more than the package says was shared).

Always: the case reference, its items and URLs, each media object's hashes and fetch
times, the page snapshots' response headers, the notices to platforms and their
outcomes.  Decisions, the reporter's contact details and their own words only when the
referral carries them (``Referral.sent_shares``: consent applied when it was sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts.models import User
from reclaim.cases.models import (
    Case,
    Decision,
    Item,
    PageSnapshot,
    QuarantinedMedia,
    Report,
)
from reclaim.referrals.domain import Share
from reclaim.referrals.models import Referral
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError, Purpose
from reclaim.takedown.models import Notice, NoticePage


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def shares_of(referral: Referral) -> frozenset[Share]:
    return frozenset(Share(s) for s in (referral.sent_shares or []))


def shared_case(session: Session, referral: Referral, *, cipher: FieldCipher) -> dict[str, Any]:
    """The case as the referral shares it (JSON-ready)."""
    case: Case = referral.case
    shares = shares_of(referral)
    items = list(session.scalars(select(Item).where(Item.case_id == case.id).order_by(Item.id)))
    document: dict[str, Any] = {
        "case": case.number,
        "case_status": case.status.value,
        "urgent": case.urgent,
        "reported_at": _at(case.created_at),
        "referral": referral.reference,
        "agency": referral.agency.name,
        "mandatory": referral.mandatory,
        "deadline": _at(referral.deadline_at),
        "sent_at": _at(referral.sent_at),
        "shares": sorted(s.value for s in shares),
        "items": [_item(session, item, Share.DECISIONS in shares) for item in items],
        "notices": _notices(session, items),
    }
    if Share.DECISIONS in shares:
        document["decisions"] = _decisions(session, items)
    reports = list(session.scalars(select(Report).where(Report.case_id == case.id)))
    if Share.WORDS in shares:
        document["reporter_words"] = [r.description for r in reports if r.description]
    if Share.CONTACT in shares:
        document["reporter_contact"] = [_contact(r, cipher) for r in reports if r.contact]
    return document


def _contact(report: Report, cipher: FieldCipher) -> str:
    try:
        return cipher.decrypt(report.contact or "", purpose=Purpose.REPORT_CONTACT)
    except FieldDecryptionError:
        return "(unreadable)"


def _item(session: Session, item: Item, decisions: bool) -> dict[str, Any]:
    kept = {
        q.media_id: q
        for q in session.scalars(
            select(QuarantinedMedia).where(QuarantinedMedia.item_id == item.id)
        )
    }
    snapshots = session.scalars(
        select(PageSnapshot).where(PageSnapshot.item_id == item.id).order_by(PageSnapshot.id)
    )
    return {
        "item": item.id,
        "kind": item.kind.value,
        "url": item.url,
        "page_url": item.page.url if item.page else None,
        "posted_by": item.posted_by,
        # A decision: only when the referral shares decisions.
        "classification": item.classification.value if decisions and item.classification else None,
        "media": [
            {
                "media": media.id,
                "kind": media.kind.value if media.kind else None,
                "url": media.url,
                "sha256": media.sha256,
                "hashes": {s.signal.type.value: s.signal.value for s in media.signals},
                "first_seen_at": _at(media.first_seen_at),
                "last_fetched_at": _at(media.last_fetched_at),
                "quarantined": _kept(kept.get(media.id)),
            }
            for media in item.media
        ],
        "snapshots": [
            {
                "snapshot": s.id,
                "final_url": s.final_url,
                "http_status": s.http_status,
                "headers": s.headers,
                "sha256": s.sha256,
                "fetched_at": _at(s.fetched_at),
                "kept": s.purged_at is None,
            }
            for s in snapshots
        ],
    }


def _kept(row: QuarantinedMedia | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "quarantine": row.id,
        "final_url": row.final_url,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "fetched_at": _at(row.fetched_at),
        "purged": row.purged_at is not None,
    }


def _notices(session: Session, items: Sequence[Item]) -> list[dict[str, Any]]:
    page_ids = {item.page_id for item in items if item.page_id is not None}
    if not page_ids:
        return []
    rows = session.execute(
        select(NoticePage, Notice)
        .join(Notice, Notice.id == NoticePage.notice_id)
        .where(NoticePage.page_id.in_(page_ids))
        .order_by(Notice.id, NoticePage.id)
    ).all()
    return [
        {
            "notice": notice.reference,
            "platform": notice.platform.name,
            "status": notice.status.value,
            "page_url": page.page.url,
            "sent_at": _at(notice.sent_at),
            "deadline": _at(notice.deadline_at),
            "outcome": page.outcome.value,
            "platform_outcome": page.platform_outcome.value if page.platform_outcome else None,
            "removed_at": _at(page.removed_at),
        }
        for page, notice in rows
    ]


def _decisions(session: Session, items: Sequence[Item]) -> list[dict[str, Any]]:
    item_ids = [item.id for item in items]
    if not item_ids:
        return []
    decisions = session.scalars(
        select(Decision).where(Decision.item_id.in_(item_ids)).order_by(Decision.id)
    ).all()
    wanted = {d.analyst_id for d in decisions} | {
        d.second_analyst_id for d in decisions if d.second_analyst_id
    }
    names: dict[int, str] = {
        row[0]: row[1]
        for row in session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    }
    return [
        {
            "item": d.item_id,
            "classification": d.classification.value,
            "status": d.status.value,
            "analyst": names.get(d.analyst_id),
            "second_analyst": names.get(d.second_analyst_id) if d.second_analyst_id else None,
            "decided_at": _at(d.created_at),
            "agreed_at": _at(d.agreed_at),
            "media": [m.id for m in d.media],
        }
        for d in decisions
    ]
