"""Linking a case to the others: by identifier, picture, page, site and threat script.

``link_case`` gathers what the case states as identifiers, finds every other case that
shares something with it, stores each link with its reason (``CaseLink``: what is
shared, never a reporter's words) and merges the clusters.  It runs when a case
changes (an identifier added, a posted-by account set) and when its page is opened;
it is idempotent, so running it again adds only what is new.

What links two cases:

* the same offender identifier (``IDENTIFIER``);
* a picture with the same MD5, SHA-256 or PDQ value (``SAME_MEDIA``), or PDQ hashes
  within the bank match distance (``SIMILAR_MEDIA``, through :class:`MediaPdqIndex`);
* the same reported page (``SAME_PAGE``), or the same site when the site is not a known
  platform (``SAME_HOST``: a site made to leak pictures; two pages on Instagram say
  nothing about one offender);
* near-identical threat messages (``THREAT_SCRIPT``, with their similarity).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.models import Case, Item, Media, MediaSignal, Page
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.signals import SignalType
from reclaim.linkage import clusters, corrections, identifiers
from reclaim.linkage.domain import (
    SCRIPT_SIMILARITY,
    IdentifierKind,
    LinkReason,
    jaccard,
    platform_of_host,
    shingles,
)
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.linkage.models import CaseIdentifier, CaseLink, OffenderIdentifier, ThreatBand
from reclaim.storage.bulk import insert_ignoring_duplicates


@dataclass(frozen=True, slots=True)
class Found:
    """Another case shares something with the one being linked."""

    other_case_id: int
    reason: LinkReason
    shared: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    new_links: int
    linked_case_ids: frozenset[int]
    cluster_id: int | None


def link_case(
    session: Session,
    case: Case,
    *,
    keys: Keys,
    media_index: MediaPdqIndex,
    max_distance: int,
    clock: Clock = system_clock,
) -> LinkOutcome:
    now = clock()
    identifiers.gather(session, case, keys=keys, clock=clock)
    media_index.sync(session)
    found = find_links(
        session, case.id, keys=keys, media_index=media_index, max_distance=max_distance
    )
    # A link a supervisor said is wrong is never made again.
    wrong = corrections.rejected_others(session, case.id)
    found = within_fanout([f for f in found if f.other_case_id not in wrong])
    new = _store(session, case.id, found, now=now)
    others = frozenset(f.other_case_id for f in found)
    cluster = clusters.join(session, case.id, others, now=now)
    if new:
        audit.record(
            session,
            AuditTag.CASES_LINKED,
            actor=audit.Actor.system(),
            target=(TargetKind.CASE, case.id),
            details={"links": new, "reasons": sorted({f.reason.value for f in found})},
            clock=clock,
        )
    return LinkOutcome(new, others, cluster)


#: The most cases one case links to through one shared thing (a page, a host, a hash,
#: an identifier).  The cases that share it are one cluster already (each linked, when
#: it arrived, to the first of them), so links to the first and to the latest keep the
#: cluster whole, while a page reported by a thousand people does not store a million
#: pairwise links (the soak's one page, 1,060 cases: 1.1 million links, 160 ms a case).
FANOUT = 50


def within_fanout(found: list[Found]) -> list[Found]:
    """``found``, keeping per shared thing the first case and the ``FANOUT - 1`` latest."""
    by_shared: dict[str, set[int]] = defaultdict(set)
    for f in found:
        by_shared[f.shared].add(f.other_case_id)
    kept = {
        shared: {min(others), *sorted(others)[len(others) - (FANOUT - 1) :]}
        for shared, others in by_shared.items()
        if len(others) > FANOUT
    }
    return [f for f in found if f.shared not in kept or f.other_case_id in kept[f.shared]]


def find_links(
    session: Session,
    case_id: int,
    *,
    keys: Keys,
    media_index: MediaPdqIndex,
    max_distance: int,
) -> list[Found]:
    """Everything ``case_id`` shares with other cases (nothing is written)."""
    found: list[Found] = []
    found += by_identifier(session, case_id)
    found += by_threat_script(session, case_id, keys)
    signals = case_signals(session, case_id)
    found += by_same_media(session, case_id, signals)
    found += by_similar_media(session, case_id, signals, media_index, max_distance)
    found += by_page_and_host(session, case_id)
    return [f for f in found if f.other_case_id != case_id]


def by_identifier(session: Session, case_id: int) -> list[Found]:
    mine = select(CaseIdentifier.identifier_id).where(CaseIdentifier.case_id == case_id)
    rows = session.execute(
        select(CaseIdentifier.case_id, OffenderIdentifier.id, OffenderIdentifier.kind)
        .join(OffenderIdentifier, OffenderIdentifier.id == CaseIdentifier.identifier_id)
        .where(
            CaseIdentifier.identifier_id.in_(mine),
            CaseIdentifier.case_id != case_id,
            OffenderIdentifier.kind != IdentifierKind.THREAT_TEXT,
        )
        .distinct()
    )
    return [
        Found(
            other, LinkReason.IDENTIFIER, f"identifier:{ident}", {"identifier": ident, "kind": kind}
        )
        for other, ident, kind in rows
    ]


def by_threat_script(session: Session, case_id: int, keys: Keys) -> list[Found]:
    """Cases naming a threat text alike to one of this case's (exactly checked)."""
    my_texts = session.scalars(
        select(OffenderIdentifier)
        .join(CaseIdentifier, CaseIdentifier.identifier_id == OffenderIdentifier.id)
        .where(
            CaseIdentifier.case_id == case_id,
            OffenderIdentifier.kind == IdentifierKind.THREAT_TEXT,
        )
        .distinct()
    ).all()
    found: list[Found] = []
    for text in my_texts:
        bands = select(ThreatBand.band, ThreatBand.digest).where(
            ThreatBand.identifier_id == text.id
        )
        candidates = session.scalars(
            select(OffenderIdentifier)
            .join(ThreatBand, ThreatBand.identifier_id == OffenderIdentifier.id)
            .where(tuple_(ThreatBand.band, ThreatBand.digest).in_(bands))
            .distinct()
        ).all()
        mine = shingles(keys.reveal(text) or "")
        alike: dict[int, float] = {}
        for candidate in candidates:
            if candidate.id == text.id:
                alike[candidate.id] = 1.0
                continue
            similarity = jaccard(mine, shingles(keys.reveal(candidate) or ""))
            if similarity >= SCRIPT_SIMILARITY:
                alike[candidate.id] = similarity
        if not alike:
            continue
        for other, ident in session.execute(
            select(CaseIdentifier.case_id, CaseIdentifier.identifier_id)
            .where(CaseIdentifier.identifier_id.in_(list(alike)), CaseIdentifier.case_id != case_id)
            .distinct()
        ):
            pair = sorted((text.id, ident))
            found.append(
                Found(
                    other,
                    LinkReason.THREAT_SCRIPT,
                    f"script:{pair[0]}:{pair[1]}",
                    {"similarity": round(alike[ident], 2)},
                )
            )
    return found


def case_signals(session: Session, case_id: int) -> list[tuple[int, str, str]]:
    """(signal id, type, value) of every media object the case's items show.

    In steps with explicit ids: joined in one statement, SQLite's planner starts from
    the signals table and reads a million rows for a case with three pictures.
    """
    items = session.execute(select(Item.id, Item.page_id).where(Item.case_id == case_id)).all()
    if not items:
        return []
    item_ids = [item_id for item_id, _page in items]
    page_ids = [page for _item, page in items if page is not None]
    media_ids = set(session.scalars(select(Media.id).where(Media.item_id.in_(item_ids))))
    if page_ids:
        media_ids |= set(session.scalars(select(Media.id).where(Media.page_id.in_(page_ids))))
    if not media_ids:
        return []
    rows = session.execute(
        select(SignalRow.id, SignalRow.type, SignalRow.value)
        .join(MediaSignal, MediaSignal.signal_id == SignalRow.id)
        .where(MediaSignal.media_id.in_(media_ids))
    )
    return sorted({(i, str(t), v) for i, t, v in rows})


def cases_with_signals(session: Session, signal_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(case id, signal id) for every case whose items show media with these signals."""
    ids = list(set(signal_ids))
    if not ids:
        return []
    device = (
        select(Item.case_id, MediaSignal.signal_id)
        .join(Media, Media.id == MediaSignal.media_id)
        .join(Item, Item.id == Media.item_id)
        .where(MediaSignal.signal_id.in_(ids))
    )
    on_pages = (
        select(Item.case_id, MediaSignal.signal_id)
        .join(Media, Media.id == MediaSignal.media_id)
        .join(Item, Item.page_id == Media.page_id)
        .where(MediaSignal.signal_id.in_(ids))
    )
    return [(c, s) for c, s in session.execute(device.union(on_pages))]


def by_same_media(
    session: Session, case_id: int, signals: list[tuple[int, str, str]]
) -> list[Found]:
    kinds = {signal_id: kind for signal_id, kind, _value in signals}
    return [
        Found(other, LinkReason.SAME_MEDIA, f"signal:{signal}", {"type": kinds[signal]})
        for other, signal in cases_with_signals(session, kinds)
        if other != case_id
    ]


def by_similar_media(
    session: Session,
    case_id: int,
    signals: list[tuple[int, str, str]],
    media_index: MediaPdqIndex,
    max_distance: int,
) -> list[Found]:
    pdq = [(signal_id, value) for signal_id, kind, value in signals if kind == SignalType.PDQ]
    if not pdq:
        return []
    near: dict[int, tuple[int, int]] = {}  # their signal -> (my signal, distance)
    for hit in media_index.similar([value for _id, value in pdq], max_distance):
        mine = pdq[hit.query_index][0]
        if hit.signal_id != mine and (
            hit.signal_id not in near or hit.distance < near[hit.signal_id][1]
        ):
            near[hit.signal_id] = (mine, hit.distance)
    found = []
    for other, theirs in cases_with_signals(session, near):
        if other == case_id:
            continue
        mine, distance = near[theirs]
        pair = sorted((mine, theirs))
        found.append(
            Found(
                other,
                LinkReason.SIMILAR_MEDIA,
                f"pdq:{pair[0]}:{pair[1]}",
                {"distance": distance},
            )
        )
    return found


def by_page_and_host(session: Session, case_id: int) -> list[Found]:
    pages = session.execute(
        select(Page.id, Page.url, Page.platform_id)
        .join(Item, Item.page_id == Page.id)
        .where(Item.case_id == case_id)
        .distinct()
    ).all()
    if not pages:
        return []
    found = [
        Found(other, LinkReason.SAME_PAGE, f"page:{page}", {"page": page})
        for other, page in session.execute(
            select(Item.case_id, Item.page_id)
            .where(Item.page_id.in_([p.id for p in pages]), Item.case_id != case_id)
            .distinct()
        )
        if page is not None
    ]
    hosts = {
        host
        for _id, url, platform_id in pages
        if platform_id is None and (host := _host(url)) and platform_of_host(host) is None
    }
    for host in sorted(hosts):
        # Pages first, then their items: joined in one statement, the planners walk
        # every item to test its page's URL.
        prefixes = [f"https://{host}/", f"http://{host}/"]
        same_site = select(Page.id).where(
            Page.platform_id.is_(None),
            or_(*(Page.url.startswith(prefix, autoescape=True) for prefix in prefixes)),
        )
        page_ids = list(session.scalars(same_site))
        rows = session.scalars(
            select(Item.case_id)
            .where(Item.page_id.in_(page_ids), Item.case_id != case_id)
            .distinct()
        )
        found += [
            Found(other, LinkReason.SAME_HOST, f"host:{host}", {"host": host}) for other in rows
        ]
    return found


def _host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


def _store(session: Session, case_id: int, found: list[Found], *, now: datetime) -> int:
    """Insert the links not stored yet; how many were new."""
    if not found:
        return 0
    others = {f.other_case_id for f in found}
    existing = {
        (a, b, str(reason), shared)
        for a, b, reason, shared in session.execute(
            select(
                CaseLink.case_id, CaseLink.other_case_id, CaseLink.reason, CaseLink.shared
            ).where(
                or_(
                    (CaseLink.case_id == case_id) & CaseLink.other_case_id.in_(others),
                    (CaseLink.other_case_id == case_id) & CaseLink.case_id.in_(others),
                )
            )
        )
    }
    rows = []
    for f in found:
        first, second = sorted((case_id, f.other_case_id))
        key = (first, second, f.reason.value, f.shared)
        if key in existing:
            continue
        existing.add(key)
        rows.append(
            {
                "case_id": first,
                "other_case_id": second,
                "reason": f.reason,
                "shared": f.shared,
                "detail": f.detail,
                "created_at": now,
            }
        )
    # One multi-row insert (a new victim of a leak site can link to a hundred cases);
    # a concurrent linker may have stored some of them first.
    insert_ignoring_duplicates(session, CaseLink.__table__, rows)  # type: ignore[arg-type]
    return len(rows)
