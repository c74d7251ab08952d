"""Linking every new case once, soon after it arrives.

Reports come through the portal, which knows nothing of linkage; a background job
links each case created since the last run, in id order, remembering how far it got in
a counter row (``linkage_cases``), so a case is never skipped even when the worker was
down.  A case that changes later (an identifier, a posted-by account) is linked again
by the console when it changes and whenever its page is opened.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reclaim.cases.models import Case
from reclaim.domain.clock import Clock, system_clock
from reclaim.linkage import linking
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.storage.models import Counter

POSITION = "linkage_cases"
BATCH = 200


def link_new_cases(
    sessions: sessionmaker[Session],
    *,
    keys: Keys,
    media_index: MediaPdqIndex,
    max_distance: int,
    clock: Clock = system_clock,
    batch: int = BATCH,
) -> int:
    """Link up to ``batch`` cases not linked since they arrived; how many were linked.

    Each case is linked and committed on its own: linking writes audit events, and the
    audit chain's counter row stays locked until the transaction ends, so one
    transaction for a whole batch would hold every report submitted meanwhile.
    """
    linked = 0
    while linked < batch:
        with sessions.begin() as session:
            if not link_next_case(
                session, keys=keys, media_index=media_index, max_distance=max_distance, clock=clock
            ):
                break
        linked += 1
    return linked


def link_next_case(
    session: Session,
    *,
    keys: Keys,
    media_index: MediaPdqIndex,
    max_distance: int,
    clock: Clock = system_clock,
) -> bool:
    """Link the first case not linked since it arrived, if there is one."""
    position = session.get(Counter, POSITION, with_for_update=True)
    if position is None:
        position = Counter(name=POSITION, value=0)
        session.add(position)
        session.flush()
    case = session.scalars(
        select(Case).where(Case.id > position.value).order_by(Case.id).limit(1)
    ).first()
    if case is None:
        return False
    linking.link_case(
        session, case, keys=keys, media_index=media_index, max_distance=max_distance, clock=clock
    )
    position.value = case.id
    session.flush()
    return True
