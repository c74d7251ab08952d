"""Notices for tests, made through the notice services: the one way to build one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.cases.domain import Classification, ItemKind, new_case_number
from reclaim.cases.items import assign_platforms
from reclaim.cases.models import Case, Item
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.platforms.models import Platform
from reclaim.takedown.models import Delivery, Notice
from reclaim.takedown.notices import NoticePolicy, draft_notices, mark_sent, queue_notice

Stage = Literal["draft", "queued", "sent"]


def case_with_urls(
    session: Session,
    urls: Sequence[str],
    *,
    classification: Classification | None = Classification.SELF_GENERATED_MINOR,
    platform: Platform | None = None,
) -> Case:
    """A case with one decided URL item per URL, on ``platform`` (or matched by host)."""
    case = Case(number=new_case_number(), pin_hash="x")
    session.add(case)
    session.flush()
    for url in urls:
        session.add(
            Item(
                case_id=case.id,
                kind=ItemKind.URL,
                url=url,
                platform_id=platform.id if platform is not None else None,
                classification=classification,
            )
        )
    session.flush()
    session.refresh(case)
    if platform is None:
        assign_platforms(session, case.items)
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
    paths: Sequence[str] = ("/a.jpg", "/b.jpg"),
    *,
    stage: Stage = "sent",
) -> Notice:
    """A committed notice to the platform named ``platform``, for URLs on its domain."""
    row = session.scalar(select(Platform).where(Platform.name == platform))
    assert row is not None and row.domains
    host = row.domains[0].domain
    case = case_with_urls(session, [f"https://{host}{path}" for path in paths])
    notice, _ = notice_for(session, case, NoticePolicy.from_settings(settings), stage=stage)
    session.commit()
    return notice
