"""What a case is linked to, and the whole cluster, as staff see them.

A link shows the other case's number and status and *why* the two are linked (the
identifier both name, the kind of picture hash, the distance, the site, how alike two
threat messages are): never the other reporter's answers, description or contact.
The cluster view adds what a supervisor needs to act on one offender: how many
victims, which identifiers and platforms, over which dates, and a small graph.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.domain import CaseStatus
from reclaim.cases.models import Case, Item, Page
from reclaim.cases.triage import platform_label
from reclaim.domain.clock import Clock, system_clock
from reclaim.linkage import clusters
from reclaim.linkage.domain import IdentifierKind, LinkReason
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.models import CaseIdentifier, CaseLink, OffenderIdentifier
from reclaim.platforms.models import Platform


@dataclass(frozen=True, slots=True)
class Reason:
    reason: LinkReason
    detail: dict[str, Any]
    identifier: str | None = None  # the shared identifier, for IDENTIFIER links
    identifier_kind: IdentifierKind | None = None


@dataclass(slots=True)
class LinkedCase:
    case_id: int
    number: str
    status: CaseStatus
    reasons: list[Reason] = field(default_factory=list)


def linked_cases(session: Session, case_id: int, keys: Keys) -> list[LinkedCase]:
    """The cases linked to ``case_id`` directly, each with every reason, by number."""
    rows = session.scalars(
        select(CaseLink)
        .where(or_(CaseLink.case_id == case_id, CaseLink.other_case_id == case_id))
        .order_by(CaseLink.id)
    ).all()
    if not rows:
        return []
    identifiers = _identifiers(session, rows, keys)
    by_case: dict[int, LinkedCase] = {}
    cases = {
        c.id: c
        for c in session.scalars(
            select(Case).where(
                Case.id.in_({r.other_case_id if r.case_id == case_id else r.case_id for r in rows})
            )
        )
    }
    for row in rows:
        other = cases[row.other_case_id if row.case_id == case_id else row.case_id]
        linked = by_case.setdefault(other.id, LinkedCase(other.id, other.number, other.status))
        linked.reasons.append(_reason(row, identifiers))
    return sorted(by_case.values(), key=lambda linked: linked.number)


def _identifiers(
    session: Session, rows: Sequence[CaseLink], keys: Keys
) -> dict[int, tuple[IdentifierKind, str | None]]:
    ids = [int(r.detail["identifier"]) for r in rows if r.reason is LinkReason.IDENTIFIER]
    if not ids:
        return {}
    return {
        row.id: (IdentifierKind(row.kind), keys.reveal(row))
        for row in session.scalars(select(OffenderIdentifier).where(OffenderIdentifier.id.in_(ids)))
    }


def _reason(row: CaseLink, identifiers: dict[int, tuple[IdentifierKind, str | None]]) -> Reason:
    reason = LinkReason(row.reason)
    if reason is LinkReason.IDENTIFIER:
        kind, value = identifiers.get(int(row.detail["identifier"]), (None, None))
        return Reason(reason, row.detail, value, kind)
    return Reason(reason, row.detail)


# --- the cluster ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClusterIdentifier:
    kind: IdentifierKind
    value: str | None
    platform: str | None
    cases: int


@dataclass(frozen=True, slots=True)
class Edge:
    first: int
    second: int
    reasons: tuple[LinkReason, ...]


@dataclass(frozen=True, slots=True)
class ClusterView:
    cluster_id: int
    cases: list[Case]
    identifiers: list[ClusterIdentifier]
    platforms: list[str]
    first_report: datetime
    last_report: datetime
    edges: list[Edge]
    reason_counts: dict[LinkReason, int]

    @property
    def victims(self) -> int:
        """One case is one victim's matter (DESIGN.md), so cases count victims."""
        return len(self.cases)


def cluster_view(session: Session, case: Case, keys: Keys) -> ClusterView:
    """The cluster ``case`` belongs to (a cluster of one when it is linked to none)."""
    members = clusters.cluster_cases(session, case)
    ids = [c.id for c in members]
    rows = session.execute(
        select(CaseIdentifier.case_id, OffenderIdentifier)
        .join(OffenderIdentifier, OffenderIdentifier.id == CaseIdentifier.identifier_id)
        .where(CaseIdentifier.case_id.in_(ids))
    ).all()
    naming: dict[int, set[int]] = defaultdict(set)
    found: dict[int, OffenderIdentifier] = {}
    for case_id, row in rows:
        naming[row.id].add(case_id)
        found[row.id] = row
    identifiers = sorted(
        (
            ClusterIdentifier(IdentifierKind(r.kind), keys.reveal(r), r.platform, len(naming[r.id]))
            for r in found.values()
        ),
        key=lambda i: (-i.cases, i.kind.value, i.value or ""),
    )
    platforms = {
        label
        for url, name in session.execute(
            select(Item.url, Platform.name)
            .outerjoin(Page, Page.id == Item.page_id)
            .outerjoin(Platform, Platform.id == Page.platform_id)
            .where(Item.case_id.in_(ids), Item.url.is_not(None))
        )
        if (label := platform_label(url, name))
    }
    # An identifier's platform key ("instagram") unless the directory named it already.
    named = {label.casefold() for label in platforms}
    platforms |= {i.platform for i in identifiers if i.platform and i.platform not in named}
    links = session.execute(
        select(CaseLink.case_id, CaseLink.other_case_id, CaseLink.reason).where(
            CaseLink.case_id.in_(ids)
        )
    ).all()
    pairs: dict[tuple[int, int], set[LinkReason]] = defaultdict(set)
    counts: dict[LinkReason, int] = defaultdict(int)
    for first, second, reason in links:
        pairs[(first, second)].add(LinkReason(reason))
        counts[LinkReason(reason)] += 1
    dates = [c.created_at for c in members]
    return ClusterView(
        cluster_id=clusters.cluster_id_of(session, case.id) or case.id,
        cases=members,
        identifiers=identifiers,
        platforms=sorted(platforms),
        first_report=min(dates),
        last_report=max(dates),
        edges=[Edge(a, b, tuple(sorted(r))) for (a, b), r in sorted(pairs.items())],
        reason_counts=dict(counts),
    )


def record_cluster_view(
    session: Session, case: Case, view: ClusterView, *, viewer_id: int, clock: Clock = system_clock
) -> None:
    audit.record(
        session,
        AuditTag.CLUSTER_VIEWED,
        actor=audit.Actor.user(viewer_id),
        target=(TargetKind.CASE, case.id),
        details={"cluster": view.cluster_id, "cases": view.victims},
        clock=clock,
    )


# --- a small graph, drawn on the server ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    case_id: int
    number: str
    x: float
    y: float


def graph_layout(
    view: ClusterView, size: int = 360
) -> tuple[list[Node], list[tuple[Node, Node, tuple[LinkReason, ...]]]]:
    """Cases on a circle (oldest at the top, clockwise), edges between linked ones:
    deterministic, so the same cluster always looks the same."""
    centre = size / 2
    radius = size / 2 - 40 if len(view.cases) > 1 else 0
    nodes = {}
    for index, case in enumerate(view.cases):
        angle = 2 * math.pi * index / max(len(view.cases), 1) - math.pi / 2
        nodes[case.id] = Node(
            case.id,
            case.number,
            round(centre + radius * math.cos(angle), 1),
            round(centre + radius * math.sin(angle), 1),
        )
    edges = [
        (nodes[e.first], nodes[e.second], e.reasons)
        for e in view.edges
        if e.first in nodes and e.second in nodes
    ]
    return list(nodes.values()), edges
