"""Notices to a partner's platform, made through the notice services."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cases.domain import Classification, ItemKind, new_case_number
from reclaim.cases.items import assign_platforms
from reclaim.cases.models import Case, Item
from reclaim.config import Settings
from reclaim.platforms.models import Platform
from reclaim.takedown.models import Notice
from reclaim.takedown.notices import NoticePolicy, draft_notices, mark_sent, queue_notice

ANALYST = audit.Actor(ActorKind.USER, None)


def make_notice(
    session: Session,
    settings: Settings,
    platform: str,
    paths: Sequence[str] = ("/a.jpg", "/b.jpg"),
    *,
    send: bool = True,
    queue: bool = True,
) -> Notice:
    """A notice to ``platform`` for URLs on its domain; sent (or only queued/drafted)."""
    row = session.scalar(select(Platform).where(Platform.name == platform))
    assert row is not None and row.domains
    host = row.domains[0].domain
    case = Case(number=new_case_number(), pin_hash="x")
    session.add(case)
    session.flush()
    for path in paths:
        session.add(
            Item(
                case_id=case.id,
                kind=ItemKind.URL,
                url=f"https://{host}{path}",
                classification=Classification.SELF_GENERATED_MINOR,
            )
        )
    session.flush()
    session.refresh(case)
    assign_platforms(session, case.items)
    policy = NoticePolicy.from_settings(settings)
    (notice,) = draft_notices(session, case, policy, actor=ANALYST)
    if queue:
        queue_notice(session, notice, actor=ANALYST)
        if send:
            mark_sent(session, notice, policy)
    session.commit()
    return notice
