"""Retention: quarantined media is deleted when its retention period ends, unless the
case is held (``cases.holds``: a legal hold, or a referral's retention).

The scheduled job (jobs/tasks.py) and ``reclaim quarantine purge`` both call
:func:`purge_expired`.  Hashes, decisions and the audit trail stay; only the media
(and its preview) goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.cases import holds
from reclaim.cases.gathering import PREVIEW_SUFFIX
from reclaim.cases.models import PageSnapshot, QuarantinedMedia
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching.quarantine import QuarantineStore


@dataclass(frozen=True, slots=True)
class PurgeOutcome:
    purged: int  # QuarantinedMedia rows whose content was deleted
    objects: int  # files removed from the store (originals, previews, orphans)
    orphans: int  # expired files that no row knew about (e.g. a fetch that rolled back)


def purge_expired(
    session: Session,
    store: QuarantineStore,
    *,
    retention: timedelta,
    clock: Clock = system_clock,
) -> PurgeOutcome:
    """Delete quarantined media and page snapshots past their expiry, except those of
    cases under a legal or retention hold; audited QUARANTINE_PURGED if any."""
    now = clock()
    held = holds.held_item_ids(session, now)
    expired = [
        media
        for media in session.scalars(
            select(QuarantinedMedia).where(
                QuarantinedMedia.expires_at <= now, QuarantinedMedia.purged_at.is_(None)
            )
        )
        if media.item_id not in held
    ]
    snapshots = [
        snapshot
        for snapshot in session.scalars(
            select(PageSnapshot).where(
                PageSnapshot.expires_at <= now, PageSnapshot.purged_at.is_(None)
            )
        )
        if snapshot.item_id not in held
    ]
    objects = 0
    for media in expired:
        objects += store.delete(media.object_id) + store.delete(media.object_id + PREVIEW_SUFFIX)
        media.purged_at = now
    for snapshot in snapshots:
        objects += store.delete(snapshot.object_id)
        snapshot.purged_at = now
    # The store's own sweep deletes every file older than the retention period: files
    # of rolled-back fetches, and files whose rows were given a longer expiry before
    # the retention setting was shortened (those rows are marked purged here too).
    # Evidence of held cases is never swept.
    swept = store.purge_expired(now, retention, keep=_held_objects(session, held))
    bases = {object_id.removesuffix(PREVIEW_SUFFIX) for object_id in swept}
    rows = (
        {
            media.object_id: media
            for media in session.scalars(
                select(QuarantinedMedia).where(QuarantinedMedia.object_id.in_(bases))
            )
        }
        if bases
        else {}
    )
    late = [media for media in rows.values() if media.purged_at is None]
    for media in late:
        media.purged_at = now
    outcome = PurgeOutcome(
        purged=len(expired) + len(late) + len(snapshots),
        objects=objects + len(swept),
        orphans=len(bases - set(rows)),
    )
    if outcome.objects or outcome.purged:
        audit.record(
            session,
            AuditTag.QUARANTINE_PURGED,
            actor=audit.SYSTEM,
            details={
                "purged": outcome.purged,
                "objects": outcome.objects,
                "orphans": outcome.orphans,
            },
            clock=clock,
        )
    session.flush()
    return outcome


def _held_objects(session: Session, held_items: set[int]) -> set[str]:
    if not held_items:
        return set()
    media = session.scalars(
        select(QuarantinedMedia.object_id).where(QuarantinedMedia.item_id.in_(held_items))
    )
    pages = session.scalars(
        select(PageSnapshot.object_id).where(PageSnapshot.item_id.in_(held_items))
    )
    kept = set(media)
    return kept | {object_id + PREVIEW_SUFFIX for object_id in kept} | set(pages)
