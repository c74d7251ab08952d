"""Items in a case: which platform hosts each reported URL, and who posted it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.models import Item
from reclaim.domain.clock import Clock, system_clock
from reclaim.platforms.directory import domain_map, platform_id_for_url
from reclaim.platforms.models import Platform


def assign_platforms(session: Session, items: Iterable[Item]) -> list[Item]:
    """Set each URL item's platform from its host; returns the items no platform owns."""
    domains = domain_map(session)
    unassigned: list[Item] = []
    for item in items:
        if item.url is None or item.platform_id is not None:
            continue
        item.platform_id = platform_id_for_url(item.url, domains)
        if item.platform_id is None:
            unassigned.append(item)
    return unassigned


def assign_platform(
    session: Session,
    item: Item,
    platform: Platform,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> None:
    """An analyst says which platform hosts the item (its host matched none); audited."""
    item.platform_id = platform.id
    audit.record(
        session,
        AuditTag.PLATFORM_CHANGED,
        actor=actor,
        target=(TargetKind.ITEM, item.id),
        details={"assigned_platform": platform.name},
        clock=clock,
    )


def set_posted_by(
    session: Session,
    item: Item,
    account: str,
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> None:
    """The account that posted the item, when an analyst knows it (notices quote it)."""
    item.posted_by = " ".join(account.split())[:255] or None
    audit.record(
        session,
        AuditTag.ITEM_ANNOTATED,
        actor=actor,
        target=(TargetKind.ITEM, item.id),
        details={"posted_by": item.posted_by},
        clock=clock,
    )
