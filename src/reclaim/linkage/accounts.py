"""An offender's account on a platform, as one account notice names it.

A cluster is one offender and many victims; when the cases name the same account, the
platform gets one account notice covering all of them (composed above this layer: the
console drafts it through takedown).  Here: which accounts of a cluster can be noticed,
on which platform of the directory, at which profile page, and which cases name each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.models import Item, Page
from reclaim.linkage.domain import IdentifierKind, platform_of_host
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.models import CaseIdentifier, OffenderIdentifier
from reclaim.platforms.models import Platform, PlatformDomain

#: Platform -> its profile page for a handle (what an account notice names).
PROFILE_PAGES: dict[str, str] = {
    "instagram": "https://www.instagram.com/{}/",
    "x": "https://x.com/{}",
    "facebook": "https://www.facebook.com/{}",
    "tiktok": "https://www.tiktok.com/@{}",
    "threads": "https://www.threads.net/@{}",
    "telegram": "https://t.me/{}",
    "youtube": "https://www.youtube.com/@{}",
    "dcard": "https://www.dcard.tw/@{}",
    "reddit": "https://www.reddit.com/user/{}",
    "line": "https://line.me/ti/p/~{}",
}
ACCOUNT_KINDS = (IdentifierKind.HANDLE, IdentifierKind.PROFILE_URL, IdentifierKind.LINE_ID)


def profile_page(kind: IdentifierKind, key: str, platform: str | None) -> str | None:
    """The profile page of an account on ``platform``: a profile URL as it is, a handle
    (a LINE ID on LINE) through the platform's URL structure; None otherwise."""
    if kind is IdentifierKind.PROFILE_URL:
        return key
    if platform not in PROFILE_PAGES or kind not in ACCOUNT_KINDS:
        return None
    if (kind is IdentifierKind.LINE_ID) != (platform == "line"):
        return None
    if platform == "facebook" and key.startswith("id:"):
        return f"https://www.facebook.com/profile.php?id={key[3:]}"
    return PROFILE_PAGES[platform].format(key)


def _host(url: str) -> str:
    return url.split("//", 1)[-1].split("/", 1)[0].lower().removeprefix("www.")


@dataclass(frozen=True, slots=True)
class AccountChoice:
    """One account of the cluster on one platform of the directory: what a supervisor
    picks to draft one account notice."""

    identifier_id: int
    kind: IdentifierKind
    value: str
    platform_id: int
    platform_name: str
    profile_url: str
    case_ids: tuple[int, ...]  # the cluster's cases naming the account

    @property
    def key(self) -> str:
        return f"{self.identifier_id}:{self.platform_id}"


def account_choices(session: Session, case_ids: Collection[int], keys: Keys) -> list[AccountChoice]:
    """Every (account, platform) a notice can be drafted for in these cases: accounts
    (handles, profile URLs, LINE IDs) the cases name, on the directory's platforms whose
    domains are the account's platform, or (a handle named with no platform) that host
    something the cases report."""
    ids = list(case_ids)
    naming: dict[int, set[int]] = defaultdict(set)
    found: dict[int, OffenderIdentifier] = {}
    for case_id, row in session.execute(
        select(CaseIdentifier.case_id, OffenderIdentifier)
        .join(OffenderIdentifier, OffenderIdentifier.id == CaseIdentifier.identifier_id)
        .where(CaseIdentifier.case_id.in_(ids), OffenderIdentifier.kind.in_(ACCOUNT_KINDS))
    ):
        naming[row.id].add(case_id)
        found[row.id] = row
    if not found:
        return []
    directory = _directory(session)
    hosting = _hosting(session, ids, directory)
    choices = []
    for row in found.values():
        value = keys.reveal(row)
        if value is None:
            continue
        kind = IdentifierKind(row.kind)
        wanted = {row.platform} if row.platform else hosting
        for platform_id, (name, key, domains) in sorted(directory.items(), key=lambda p: p[1][0]):
            if kind is IdentifierKind.PROFILE_URL:
                # A profile URL is on the platform serving its host, whatever we know of it.
                host = _host(value)
                on = any(host == d or host.endswith("." + d) for d in domains)
                url = value if on else None
            else:
                url = profile_page(kind, value, key) if key in wanted else None
            if url is not None:
                choices.append(
                    AccountChoice(
                        row.id, kind, value, platform_id, name, url, tuple(sorted(naming[row.id]))
                    )
                )
    return sorted(choices, key=lambda c: (-len(c.case_ids), c.value, c.platform_name))


def _directory(session: Session) -> dict[int, tuple[str, str | None, list[str]]]:
    """platform id -> (name, platform key or None, domains) for the directory."""
    found: dict[int, tuple[str, str | None, list[str]]] = {}
    for platform_id, name, domain in session.execute(
        select(Platform.id, Platform.name, PlatformDomain.domain).join(
            PlatformDomain, PlatformDomain.platform_id == Platform.id
        )
    ):
        _name, key, domains = found.setdefault(platform_id, (name, None, []))
        domains.append(domain.lower())
        found[platform_id] = (name, key or platform_of_host(domain), domains)
    return found


def _hosting(
    session: Session, case_ids: list[int], directory: dict[int, tuple[str, str | None, list[str]]]
) -> set[str]:
    """The platform keys of the directory platforms hosting the cases' reported pages."""
    platform_ids = session.scalars(
        select(Page.platform_id)
        .join(Item, Item.page_id == Page.id)
        .where(Item.case_id.in_(case_ids), Page.platform_id.is_not(None))
        .distinct()
    )
    return {key for p in platform_ids if p in directory and (key := directory[p][1])}


def items_on_platform(
    session: Session, case_ids: Collection[int], platform_id: int
) -> dict[int, list[int]]:
    """case id -> its items (not withdrawn) whose pages the platform hosts."""
    found: dict[int, list[int]] = {case_id: [] for case_id in case_ids}
    for case_id, item_id in session.execute(
        select(Item.case_id, Item.id)
        .join(Page, Page.id == Item.page_id)
        .where(
            Item.case_id.in_(list(case_ids)),
            Page.platform_id == platform_id,
            Item.withdrawn_at.is_(None),
        )
        .order_by(Item.id)
    ):
        found[case_id].append(item_id)
    return found
