"""Console routes for linkage: a case's offender identifiers, its cluster, and search
across cases.

Analysts and supervisors add identifiers and search; the cluster view is for
supervisors (it gathers many victims' cases in one page), who may refer the whole
cluster to police from it (cluster_referrals.py).  Social workers and police
liaisons see no links on case pages: police see a cluster only as far as it was
referred to their agency (``console.referred.cluster``).  Linking runs when a case
page is opened and after each change, so links are current when someone looks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.cases import casework
from reclaim.cases.models import Case
from reclaim.linkage import (
    accounts,
    case_links,
    clusters,
    corrections,
    identifiers,
    linking,
    search,
)
from reclaim.linkage.domain import IdentifierKind, InvalidIdentifierError, LinkReason
from reclaim.linkage.identifiers import Keys, keys_for
from reclaim.referrals.domain import AgencyKind
from reclaim.referrals.models import Agency
from reclaim.takedown.account_notices import account_notices_citing
from reclaim.takedown.models import Notice, NoticeCitation
from reclaim.web.common import current_time, render, state_of
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import may, permitted
from reclaim.web.console.responses import cipher_of, redirect

router = APIRouter()

#: Roles that see a case's links and identifiers on its page.
LINK_READERS = frozenset({Role.ANALYST, Role.SUPERVISOR})


def keys_of(request: Request) -> Keys:
    return keys_for(cipher_of(request), state_of(request).settings.secret_bytes)


def link_now(request: Request, staff: Staff, case: Case) -> linking.LinkOutcome:
    state = state_of(request)
    return linking.link_case(
        staff.db,
        case,
        keys=keys_of(request),
        media_index=state.media_index,
        max_distance=state.settings.match_max_distance,
        clock=state.clock,
    )


def linked_groups(session: Session, case_ids: list[int], now: datetime) -> Mapping[int, int]:
    """For the queue's urgency: cases in a linked group that grew lately."""
    return clusters.growing(session, case_ids, now=now)


def case_context(request: Request, staff: Staff, case: Case) -> dict[str, Any]:
    """What the case page shows of linkage (nothing for roles that may not see links)."""
    if staff.role not in LINK_READERS:
        return {"links": None, "identifiers": None}
    keys = keys_of(request)
    return {
        "links": case_links.linked_cases(staff.db, case.id, keys),
        "identifiers": identifiers.case_identifiers(staff.db, case.id, keys),
        "identifier_kinds": list(IdentifierKind),
        "can_add_identifier": may(staff, "console.case.identifiers"),
        "can_see_cluster": may(staff, "console.case.cluster"),
        "identifier_error": _known(request.query_params.get("identifier_error")),
        # Account notices citing this case (one notice for a cluster's reports of one
        # account): the analyst sees the platform was told, and where it stands.
        "account_notices": account_notices_citing(staff.db, case.id),
        "can_reject_link": may(staff, "console.case.link.reject"),
    }


#: Why an identifier was refused (?identifier_error=...), as the page words it.
IDENTIFIER_ERRORS = frozenset(
    {"empty", "too_long", "bad_handle", "bad_url", "bad_line_id", "bad_phone", "bad_email",
     "bad_kind", "rejected", "no_reason", "not_linked", "not_named"}
)  # fmt: skip


def _known(code: str | None) -> str | None:
    return code if code in IDENTIFIER_ERRORS else None


@router.post("/cases/{number}/identifiers", name="console.case.identifiers")
def add_identifier(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.identifiers")],
    kind: Annotated[str, Form()] = "",
    value: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    case = _case_or_404(staff, number)
    try:
        identifiers.add_by_analyst(
            staff.db,
            case,
            IdentifierKind(kind),
            value,
            actor_id=staff.user.id,
            keys=keys_of(request),
            clock=state_of(request).clock,
        )
    except ValueError as exc:  # InvalidIdentifierError is a ValueError too
        staff.db.rollback()
        code = exc.code if isinstance(exc, InvalidIdentifierError) else "bad_kind"
        return redirect(f"/console/cases/{case.number}?identifier_error={code}#identifiers")
    link_now(request, staff, case)
    staff.db.commit()
    return redirect(f"/console/cases/{case.number}?notice=identifier_added#identifiers")


@router.post("/cases/{number}/links/{other}/reject", name="console.case.link.reject")
def reject_link(
    request: Request,
    number: str,
    other: str,
    staff: Annotated[Staff, permitted("console.case.link.reject")],
    reason: Annotated[str, Form(max_length=corrections.MAX_REASON)] = "",
) -> Response:
    """A supervisor says two cases are not linked (with why)."""
    case, other_case = _case_or_404(staff, number), _case_or_404(staff, other)
    try:
        corrections.reject_link(
            staff.db,
            case,
            other_case,
            reason,
            actor_id=staff.user.id,
            clock=state_of(request).clock,
        )
    except corrections.CorrectionError as exc:
        staff.db.rollback()
        return redirect(f"/console/cases/{case.number}?identifier_error={exc.code}#linked")
    staff.db.commit()
    return redirect(f"/console/cases/{case.number}?notice=link_rejected#linked")


@router.post(
    "/cases/{number}/identifiers/{identifier_id}/reject", name="console.case.identifier.reject"
)
def reject_identifier(
    request: Request,
    number: str,
    identifier_id: int,
    staff: Annotated[Staff, permitted("console.case.identifier.reject")],
    reason: Annotated[str, Form(max_length=corrections.MAX_REASON)] = "",
) -> Response:
    """A supervisor says the case does not name this identifier (with why)."""
    case = _case_or_404(staff, number)
    try:
        corrections.reject_identifier(
            staff.db,
            case,
            identifier_id,
            reason,
            actor_id=staff.user.id,
            clock=state_of(request).clock,
        )
    except corrections.CorrectionError as exc:
        staff.db.rollback()
        return redirect(f"/console/cases/{case.number}?identifier_error={exc.code}#identifiers")
    staff.db.commit()
    return redirect(f"/console/cases/{case.number}?notice=link_rejected#identifiers")


def _case_or_404(staff: Staff, number: str) -> Case:
    case = casework.find_case(staff.db, number)
    if case is None:
        raise HTTPException(404, "no such case")
    return case


@router.get("/cases/{number}/cluster", name="console.case.cluster")
def cluster_page(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.cluster")],
) -> Response:
    case = _case_or_404(staff, number)
    link_now(request, staff, case)
    view = case_links.cluster_view(staff.db, case, keys_of(request))
    case_links.record_cluster_view(
        staff.db, case, view, viewer_id=staff.user.id, clock=state_of(request).clock
    )
    staff.db.commit()
    nodes, edges = case_links.graph_layout(view)
    context = {
        "active": "queue",
        "case": case,
        "view": view,
        "nodes": nodes,
        "edges": edges,
        "reasons": list(LinkReason),
        "now": current_time(request),
        "can_refer": may(staff, "console.case.cluster.refer"),
        "agencies": _investigators(staff.db),
        "referred": _counts(request) if request.query_params.get("notice") == "referred" else None,
        "refer_error": bool(request.query_params.get("error")),
        **_account_notice_context(request, staff, view),
    }
    return render(request, "console/cluster.html", context)


def _account_notice_context(
    request: Request, staff: Staff, view: case_links.ClusterView
) -> dict[str, Any]:
    """The cluster's account notices, and the accounts a supervisor may notice."""
    ids = [c.id for c in view.cases]
    may_draft = may(staff, "console.case.cluster.account_notice")
    error = request.query_params.get("account_error")
    return {
        "account_choices": accounts.account_choices(staff.db, ids, keys_of(request))
        if may_draft
        else [],
        "can_draft_account_notice": may_draft,
        "cluster_account_notices": list(
            staff.db.scalars(
                select(Notice)
                .join(NoticeCitation, NoticeCitation.notice_id == Notice.id)
                .where(NoticeCitation.case_id.in_(ids))
                .distinct()
                .order_by(Notice.id)
            )
        ),
        "account_error": error if error in {"choose", "open"} else None,
    }


def _counts(request: Request) -> tuple[int, int]:
    sent, left = request.query_params.get("sent", ""), request.query_params.get("left_out", "")
    return (int(sent) if sent.isdigit() else 0, int(left) if left.isdigit() else 0)


def _investigators(session: Session) -> list[Agency]:
    """Police units and prosecutors: where a whole cluster is referred."""
    kinds = [AgencyKind.POLICE.value, AgencyKind.PROSECUTOR.value]
    return list(session.scalars(select(Agency).where(Agency.kind.in_(kinds)).order_by(Agency.name)))


@router.get("/search", name="console.search")
def search_page(
    request: Request,
    staff: Annotated[Staff, permitted("console.search")],
    key: str = "",
    q: str = "",
    distance: str = "",
) -> Response:
    state = state_of(request)
    outcome: search.SearchOutcome | None = None
    error: str | None = None
    query = q.strip()
    if query:
        try:
            outcome = search.search(
                staff.db,
                search.SearchKey(key)
                if key in set(search.SearchKey)
                else search.SearchKey.CASE_NUMBER,
                query,
                keys=keys_of(request),
                media_index=state.media_index,
                max_distance=_distance(distance, state.settings.match_max_distance),
                zone=state.settings.zone,
            )
        except search.SearchError as exc:
            error = exc.code
        search.record(
            staff.db,
            key,
            outcome,
            error=error,
            viewer_id=staff.user.id,
            keys=keys_of(request),
            query=query,
            clock=state.clock,
        )
        staff.db.commit()
    context = {
        "active": "search",
        "keys": list(search.SearchKey),
        "key": key,
        "q": query,
        "distance": distance,
        "outcome": outcome,
        "error": error,
        "now": current_time(request),
    }
    return render(request, "console/search.html", context, 400 if error else 200)


def _distance(text: str, default: int) -> int:
    try:
        value = int(text)
    except ValueError:
        return default
    return min(max(value, 0), 63)
