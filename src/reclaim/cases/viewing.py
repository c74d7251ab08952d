"""Looking at quarantined media: the blurred preview and the original, each audited.

Fetching for review (``review``) stores the media and, for images, a blurred greyscale
preview beside it; the console shows neither unasked.  Every look is an audit row
(ITEM_PREVIEWED, ITEM_REVEALED) and marks the media object seen by that person (which
is what makes its hashes verified: ``trust``); media purged at the end of its retention
period cannot be looked at.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases import trust
from reclaim.cases.domain import SeenHow
from reclaim.cases.gathering import PREVIEW_SUFFIX
from reclaim.cases.models import QuarantinedMedia
from reclaim.cases.review import ReviewError
from reclaim.domain.clock import Clock, system_clock
from reclaim.fetching.quarantine import QuarantineError, QuarantineNotFoundError, QuarantineStore


@dataclass(frozen=True, slots=True)
class MediaContent:
    data: bytes
    content_type: str


def has_preview(media: QuarantinedMedia) -> bool:
    """Images get a preview at fetch time, videos a strip of keyframes (unless they
    could not be decoded)."""
    return media.content_type.startswith(("image/", "video/"))


def preview(
    session: Session,
    media: QuarantinedMedia,
    *,
    store: QuarantineStore,
    actor_id: int,
    min_pdq_quality: int = 50,
    clock: Clock = system_clock,
) -> bytes:
    """The blurred greyscale preview (a JPEG); audited ITEM_PREVIEWED."""
    _check_kept(media)
    try:
        data = store.get(media.object_id + PREVIEW_SUFFIX)
    except QuarantineNotFoundError:
        raise ReviewError("no_preview", "there is no preview for this media") from None
    except QuarantineError as exc:
        raise ReviewError("unreadable", str(exc)) from None
    _audit_look(session, AuditTag.ITEM_PREVIEWED, media, actor_id, clock)
    trust.mark_seen(
        session,
        media.media,
        user_id=actor_id,
        how=SeenHow.PREVIEW,
        min_pdq_quality=min_pdq_quality,
        clock=clock,
    )
    return data


def reveal(
    session: Session,
    media: QuarantinedMedia,
    *,
    store: QuarantineStore,
    actor_id: int,
    min_pdq_quality: int = 50,
    clock: Clock = system_clock,
) -> MediaContent:
    """The original bytes, decrypted for one response; audited ITEM_REVEALED."""
    _check_kept(media)
    try:
        data = store.get(media.object_id)
    except QuarantineError as exc:
        raise ReviewError("unreadable", str(exc)) from None
    _audit_look(session, AuditTag.ITEM_REVEALED, media, actor_id, clock)
    trust.mark_seen(
        session,
        media.media,
        user_id=actor_id,
        how=SeenHow.ORIGINAL,
        min_pdq_quality=min_pdq_quality,
        clock=clock,
    )
    return MediaContent(data, media.content_type)


def _check_kept(media: QuarantinedMedia) -> None:
    if media.purged_at is not None:
        raise ReviewError("purged", "this media was purged when its retention period ended")


def _audit_look(
    session: Session, tag: AuditTag, media: QuarantinedMedia, actor_id: int, clock: Clock
) -> None:
    audit.record(
        session,
        tag,
        actor=audit.Actor.user(actor_id),
        target=(TargetKind.ITEM, media.item_id),
        details={"media": media.id, "media_object": media.media_id, "sha256": media.sha256},
        clock=clock,
    )
