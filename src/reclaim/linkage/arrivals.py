"""Linking every new case once, soon after it arrives.

Reports come through the portal, which knows nothing of linkage; a background job
links each case created since the last run, in id order, remembering how far it got in
a counter row (``linkage_cases``), so a case is never skipped even when the worker was
down.  A case that changes later (an identifier, a posted-by account) is linked again
by the console when it changes and whenever its page is opened.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.cases.models import Case
from reclaim.domain.clock import Clock, system_clock
from reclaim.linkage import linking
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.storage.models import Counter

POSITION = "linkage_cases"
BATCH = 200


def link_new_cases(
    session: Session,
    *,
    keys: Keys,
    media_index: MediaPdqIndex,
    max_distance: int,
    clock: Clock = system_clock,
    batch: int = BATCH,
) -> int:
    """Link up to ``batch`` cases not linked since they arrived; how many were linked."""
    position = session.get(Counter, POSITION, with_for_update=True)
    if position is None:
        position = Counter(name=POSITION, value=0)
        session.add(position)
        session.flush()
    cases = session.scalars(
        select(Case).where(Case.id > position.value).order_by(Case.id).limit(batch)
    ).all()
    for case in cases:
        linking.link_case(
            session,
            case,
            keys=keys,
            media_index=media_index,
            max_distance=max_distance,
            clock=clock,
        )
    if cases:
        position.value = cases[-1].id
        session.flush()
    return len(cases)
