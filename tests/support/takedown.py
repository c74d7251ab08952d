"""Decided cases and notices for tests, made through the case and notice services (the
one way to build them): pages shared by cases, the pictures a fetch found on them, the
analysts' decisions that cover those pictures, then notices drafted, queued and sent.

Everything is synthetic: example URLs, and picture "bytes" that are any bytes a test
chooses (their SHA-256 is what verification compares against).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.cases import decisions, pages
from reclaim.cases.domain import AgeGroup, Classification, MediaKind
from reclaim.cases.items import assign_platforms
from reclaim.cases.models import Case, Decision, Item, Media
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.platforms.models import Platform
from reclaim.takedown.models import Delivery, Notice
from reclaim.takedown.notices import NoticePolicy, draft_notices, mark_sent, queue_notice
from tests.support.cases import make_case, make_user

Stage = Literal["draft", "queued", "sent"]
#: A picture a fetch found on a page: where, and its bytes (or any text standing in).
Picture = tuple[str, bytes | str]


def picture(
    session: Session, item: Item, url: str, content: bytes | str, *, clock: Clock = system_clock
) -> Media:
    """The media object a fetch for review found on ``item``'s page at ``url``."""
    assert item.page is not None, "only a URL item's page shows pictures"
    data = content.encode() if isinstance(content, str) else content
    media = pages.fetched_media(
        session,
        item.page,
        url=url,
        sha256=hashlib.sha256(data).hexdigest(),
        kind=MediaKind.IMAGE,
        now=clock(),
    )
    session.refresh(item.page, ["media"])
    return media


def analyst(session: Session) -> User:
    """The analyst who decides in these factories (one per database)."""
    found = session.scalar(select(User).where(User.display_name == "Factory Analyst"))
    return found or make_user(session, Role.ANALYST, "Factory Analyst")


def decide(
    session: Session,
    item: Item,
    classification: Classification,
    *,
    media: Collection[Media] | None = None,
    by: User | None = None,
    clock: Clock = system_clock,
) -> Decision:
    """An analyst's decision on ``item`` covering ``media`` (default: every picture its
    page shows), through the decision service (banking, audit and case status follow)."""
    return decisions.decide(
        session,
        item,
        classification,
        analyst_id=(by or analyst(session)).id,
        reason="Synthetic test decision.",
        policy=decisions.DecisionPolicy(),
        media_ids=None if media is None else [m.id for m in media],
        clock=clock,
    )


def case_with_urls(
    session: Session,
    urls: Sequence[str],
    *,
    classification: Classification | None = Classification.SELF_GENERATED_MINOR,
    platform: Platform | None = None,
    pictures: Mapping[str, Sequence[Picture]] | None = None,
    age: AgeGroup = AgeGroup.UNDER_18,
    clock: Clock = system_clock,
) -> Case:
    """A case with one URL item per URL, its page on ``platform`` (or matched by host),
    showing ``pictures[url]`` (as a fetch for review found them), each item decided as
    ``classification`` (None: left undecided) covering every picture on its page."""
    case = make_case(session, urls=urls, age=age)
    for item in case.items:
        assert item.page is not None
        if platform is not None:
            item.page.platform_id = platform.id
        for url, content in (pictures or {}).get(item.url or "", ()):
            picture(session, item, url, content, clock=clock)
    if platform is None:
        assign_platforms(session, case.items)
    session.flush()
    if classification is not None:
        for item in case.items:
            decide(session, item, classification, clock=clock)
    session.flush()
    session.refresh(case)
    return case


def notice_for(
    session: Session,
    case: Case,
    policy: NoticePolicy,
    *,
    stage: Stage = "sent",
    clock: Clock = system_clock,
    sent_at: datetime | None = None,
) -> tuple[Notice, list[Delivery]]:
    """Draft the case's one notice and take it to ``stage``; returns it and its deliveries."""
    (notice,) = draft_notices(session, case, policy, actor=audit.SYSTEM, clock=clock)
    deliveries: list[Delivery] = []
    if stage != "draft":
        deliveries = queue_notice(session, notice, actor=audit.SYSTEM, clock=clock)
    if stage == "sent":
        mark_sent(session, notice, policy, clock=(lambda: sent_at) if sent_at else clock)
    return notice, deliveries


def make_notice(
    session: Session,
    settings: Settings,
    platform: str,
    paths: Sequence[str] = ("/a", "/b"),
    *,
    pictures: Mapping[str, Sequence[Picture]] | None = None,
    stage: Stage = "sent",
) -> Notice:
    """A committed notice to the platform named ``platform``, for pages at ``paths`` on
    its domain (``pictures`` keyed by path)."""
    row = session.scalar(select(Platform).where(Platform.name == platform))
    assert row is not None and row.domains
    host = row.domains[0].domain
    urls = {path: f"https://{host}{path}" for path in paths}
    case = case_with_urls(
        session,
        list(urls.values()),
        pictures={urls[path]: shown for path, shown in (pictures or {}).items()},
    )
    notice, _ = notice_for(session, case, NoticePolicy.from_settings(settings), stage=stage)
    session.commit()
    return notice
