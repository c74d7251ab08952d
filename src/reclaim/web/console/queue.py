"""Console routes: the triage queue, claiming and assigning casework."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from reclaim.accounts.models import User
from reclaim.cases import casework, triage
from reclaim.cases.domain import CaseStatus
from reclaim.web.common import current_time, render, state_of
from reclaim.web.console import linkage
from reclaim.web.console.auth import Staff
from reclaim.web.console.cases import case_or_404, case_url, render_case
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import local_target, redirect

router = APIRouter()

ASSIGNEE_FILTERS: tuple[triage.AssigneeFilter, ...] = ("anyone", "me", "unassigned")


def _filters(
    status: str | None, urgent: str | None, platform: str | None, assignee: str | None
) -> triage.QueueFilters:
    """Filters from the query string; anything unrecognised means "no filter"."""
    chosen_status = CaseStatus(status) if status in set(CaseStatus) else None
    chosen_assignee: triage.AssigneeFilter = "anyone"
    for known in ASSIGNEE_FILTERS:
        if known == assignee:
            chosen_assignee = known
    return triage.QueueFilters(
        status=chosen_status,
        urgent_only=urgent == "1",
        platform=(platform or "").strip() or None,
        assignee=chosen_assignee,
    )


@router.get("/", name="console.queue")
def queue_page(
    request: Request,
    staff: Annotated[Staff, permitted("console.queue")],
    *,
    status: str | None = None,
    urgent: str | None = None,
    platform: str | None = None,
    assignee: str | None = None,
) -> Response:
    state = state_of(request)
    filters = _filters(status, urgent, platform, assignee)
    policy = triage.TriagePolicy.from_settings(state.settings)
    queue = triage.build_queue(
        staff.db,
        viewer_id=staff.user.id,
        filters=filters,
        policy=policy,
        matcher=state.match_engine(),
        now=current_time(request),
        linked_groups=linkage.linked_groups,
    )
    triage.record_view(
        staff.db, filters, queue, viewer_id=staff.user.id, clock=state_of(request).clock
    )
    staff.db.commit()
    context = {
        "active": "queue",
        "queue": queue,
        "filters": filters,
        "statuses": list(CaseStatus),
        "assignee_filters": ASSIGNEE_FILTERS,
        "staff": staff.user,
        "points": triage.POINTS,
        "policy": policy,
        "next_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    return render(request, "console/queue.html", context)


@router.post("/cases/{number}/claim", name="console.case.claim")
def claim(
    number: str,
    staff: Annotated[Staff, permitted("console.case.claim")],
    next_url: Annotated[str, Form(alias="next")] = "",
) -> Response:
    case = case_or_404(staff, number)
    casework.assign(staff.db, case, staff.user, actor_id=staff.user.id)
    staff.db.commit()
    # Back to the console page the form came from; never to another site.
    return redirect(local_target(next_url) or case_url(case, "claimed"))


@router.post("/cases/{number}/assign", name="console.case.assign")
def assign(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.assign")],
    user_id: Annotated[int, Form()],
) -> Response:
    case = case_or_404(staff, number)
    assignee = staff.db.get(User, user_id)
    if assignee is None:
        raise HTTPException(404, "no such user")
    try:
        casework.assign(staff.db, case, assignee, actor_id=staff.user.id)
    except casework.CaseError as exc:
        staff.db.rollback()
        return render_case(request, staff, case, status=409, error=exc.code)
    staff.db.commit()
    return redirect(case_url(case, "assigned"))
