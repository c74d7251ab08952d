"""Pages and media: one record per reported address and per picture, shared by cases.

A URL reported in two cases is one page: fetched, decided, noticed and verified as one
thing, so a platform gets one notice for it and the figures count it once.  The media a
page showed are found by fetching it for review; a picture at the same address with the
same bytes is the same media object whoever fetched it.  Files hashed on a reporter's
device are media of their own item (only their hashes exist here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.banks import banking
from reclaim.cases.domain import MediaKind, MediaOrigin
from reclaim.cases.models import Item, Media, MediaSignal, Page
from reclaim.domain.signals import Signal
from reclaim.storage.bulk import insert_ignoring_duplicates


def page_url(url: str) -> str:
    """The address that names a page: the reported URL without its fragment (a
    ``#part`` never reaches the server, so ``…/a#1`` and ``…/a#2`` are one page)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def page_for(session: Session, url: str, *, now: datetime) -> Page:
    """The page for ``url``, created on first report (safe against a concurrent one)."""
    key = page_url(url)
    page = session.scalar(select(Page).where(Page.url == key))
    if page is None:
        insert_ignoring_duplicates(
            session,
            Page.__table__,  # type: ignore[arg-type]
            [{"url": key, "created_at": now}],
        )
        page = session.scalars(select(Page).where(Page.url == key)).one()
    return page


def fetched_media(
    session: Session,
    page: Page,
    *,
    url: str,
    sha256: str,
    kind: MediaKind,
    now: datetime,
) -> Media:
    """The media object a fetch found on ``page`` (new unless these bytes were seen there
    before at this address)."""
    media = session.scalar(
        select(Media).where(Media.page_id == page.id, Media.url == url, Media.sha256 == sha256)
    )
    if media is None:
        media = Media(
            page_id=page.id,
            origin=MediaOrigin.FETCHED,
            kind=kind,
            url=url,
            sha256=sha256,
            first_seen_at=now,
        )
        session.add(media)
    media.last_fetched_at = now
    session.flush()
    return media


def device_media(item: Item, kind: MediaKind | None, *, now: datetime) -> Media:
    """The one media object of a file item (hashed on the reporter's device)."""
    media = Media(origin=MediaOrigin.DEVICE, kind=kind, first_seen_at=now)
    item.device_media.append(media)  # sets media.item too; the item's session adds it
    return media


def attach_signals(
    session: Session,
    media: Media,
    signals: Iterable[tuple[Signal, int | None]],
    *,
    now: datetime,
) -> list[int]:
    """Link hashes to a media object; returns the signal ids newly linked."""
    wanted: dict[Signal, int | None] = {}
    for signal, quality in signals:
        wanted.setdefault(signal, quality)
    if not wanted:
        return []
    ids = banking.signal_ids(session, wanted, clock=lambda: now)
    session.flush()
    existing = set(
        session.scalars(select(MediaSignal.signal_id).where(MediaSignal.media_id == media.id))
    )
    added = []
    for signal, quality in wanted.items():
        if ids[signal] not in existing:
            session.add(MediaSignal(media_id=media.id, signal_id=ids[signal], quality=quality))
            added.append(ids[signal])
    session.flush()
    return added


def media_of_items(session: Session, items: Sequence[Item]) -> dict[int, list[Media]]:
    """item id -> the media it shows (its page's, or its own device file), in one query."""
    page_items: dict[int, list[int]] = {}
    found: dict[int, list[Media]] = {item.id: [] for item in items}
    for item in items:
        if item.page_id is not None:
            page_items.setdefault(item.page_id, []).append(item.id)
    media = session.scalars(
        select(Media)
        .where(
            (Media.page_id.in_(list(page_items))) | (Media.item_id.in_([item.id for item in items]))
        )
        .order_by(Media.id)
    )
    for one in media:
        if one.item_id is not None and one.item_id in found:
            found[one.item_id].append(one)
        for item_id in page_items.get(one.page_id or -1, []):
            found[item_id].append(one)
    return found
