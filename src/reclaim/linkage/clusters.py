"""Clusters: the connected groups that links make (one offender, many victims).

A cluster is named by the smallest case id in it and kept in ``cluster_members`` as
links are added (``join``), so the queue can tell at once which cases belong to a group
that just grew.  ``cluster_cases`` is what a referral of the whole cluster takes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from reclaim.cases.models import Case
from reclaim.linkage.models import CaseLink, ClusterMember
from reclaim.storage.bulk import insert_ignoring_duplicates

#: A cluster that gained a case within this long raises the urgency of all its cases.
GROWTH_WINDOW = timedelta(days=7)


def join(session: Session, case_id: int, others: Collection[int], *, now: datetime) -> int | None:
    """Put ``case_id`` and ``others`` (cases it is linked to) in one cluster, merging
    the clusters they were in; the cluster's id, or None when there is nothing to join."""
    current = session.get(ClusterMember, case_id)
    if not others:
        return current.cluster_id if current else None
    members = {case_id, *others}
    rows = session.scalars(select(ClusterMember).where(ClusterMember.case_id.in_(members))).all()
    clusters = {row.cluster_id for row in rows}
    target = min(clusters | members)
    merged = clusters - {target}
    if merged:
        session.execute(
            update(ClusterMember)
            .where(ClusterMember.cluster_id.in_(merged))
            .values(cluster_id=target)
        )
    known = {row.case_id for row in rows}
    insert_ignoring_duplicates(
        session,
        ClusterMember.__table__,  # type: ignore[arg-type]
        [
            {"case_id": member, "cluster_id": target, "joined_at": now}
            for member in sorted(members - known)
        ],
    )
    return target


def rebuild(session: Session, cluster_id: int) -> None:
    """Recompute a cluster after links were removed (a supervisor said one is wrong):
    it may split in several, each named by its smallest case id; a case left linked to
    none leaves the clusters."""
    members = member_ids(session, cluster_id)
    parent = {case_id: case_id for case_id in members}

    def root(case_id: int) -> int:
        while parent[case_id] != case_id:
            parent[case_id] = parent[parent[case_id]]
            case_id = parent[case_id]
        return case_id

    for first, second in session.execute(
        select(CaseLink.case_id, CaseLink.other_case_id).where(CaseLink.case_id.in_(members))
    ):
        if first in parent and second in parent:
            a, b = root(first), root(second)
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for case_id in members:
        groups.setdefault(root(case_id), []).append(case_id)
    for group in groups.values():
        if len(group) == 1:
            session.execute(delete(ClusterMember).where(ClusterMember.case_id == group[0]))
        else:
            session.execute(
                update(ClusterMember)
                .where(ClusterMember.case_id.in_(group))
                .values(cluster_id=min(group))
            )


def cluster_id_of(session: Session, case_id: int) -> int | None:
    return session.scalar(select(ClusterMember.cluster_id).where(ClusterMember.case_id == case_id))


def member_ids(session: Session, cluster_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ClusterMember.case_id)
            .where(ClusterMember.cluster_id == cluster_id)
            .order_by(ClusterMember.case_id)
        )
    )


def cluster_cases(session: Session, case: Case) -> list[Case]:
    """Every case in ``case``'s cluster (itself alone when it is linked to none), oldest
    first: what a referral of the cluster to police packages."""
    cluster_id = cluster_id_of(session, case.id)
    if cluster_id is None:
        return [case]
    return list(
        session.scalars(
            select(Case).where(Case.id.in_(member_ids(session, cluster_id))).order_by(Case.id)
        )
    )


def growing(
    session: Session, case_ids: Collection[int], *, now: datetime, window: timedelta = GROWTH_WINDOW
) -> dict[int, int]:
    """case id -> how many other cases share its cluster, for the cases among
    ``case_ids`` whose cluster gained a case within ``window`` before ``now``."""
    if not case_ids:
        return {}
    mine: dict[int, int] = {  # noqa: C416 - rows are not pairs to dict()
        case_id: cluster_id
        for case_id, cluster_id in session.execute(
            select(ClusterMember.case_id, ClusterMember.cluster_id).where(
                ClusterMember.case_id.in_(list(case_ids))
            )
        )
    }
    if not mine:
        return {}
    figures = {
        cluster_id: (size, latest)
        for cluster_id, size, latest in session.execute(
            select(
                ClusterMember.cluster_id,
                func.count(ClusterMember.case_id),
                func.max(ClusterMember.joined_at),
            )
            .where(ClusterMember.cluster_id.in_(set(mine.values())))
            .group_by(ClusterMember.cluster_id)
        )
    }
    raised: dict[int, int] = {}
    for case_id, cluster_id in mine.items():
        size, latest = figures[cluster_id]
        if size > 1 and latest is not None and _aware(latest) >= now - window:
            raised[case_id] = size - 1
    return raised


def _aware(moment: datetime) -> datetime:
    # An aggregate may come back without the column's UTC marking on some backends.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
