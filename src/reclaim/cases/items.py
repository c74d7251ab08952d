"""Items in a case: which platform hosts each reported page, and who posted it."""

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
    """Set the platform of each URL item's page from its host (unless already known);
    returns the items whose page no platform owns."""
    domains = domain_map(session)
    unassigned: list[Item] = []
    for item in items:
        page = item.page
        if page is None:
            continue
        if page.platform_id is None:
            page.platform_id = platform_id_for_url(page.url, domains)
        if page.platform_id is None:
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
    """An analyst says which platform hosts the item's page (its host matched none);
    audited."""
    if item.page is None:
        raise ValueError("only a reported URL is hosted by a platform")
    item.page.platform_id = platform.id
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
