"""Items in a case: which platform hosts each reported URL."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from reclaim.cases.models import Item
from reclaim.platforms.directory import domain_map, platform_id_for_url


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
