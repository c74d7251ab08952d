"""Console routes: the case page, status changes and internal notes.

Who may do what is in web/console/permissions.py (see also docs/analysts.md):
analysts and supervisors work cases; social workers and police liaisons may read a
case page, without reporters' contact details, media or decisions; admins manage
accounts and see no case content.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from reclaim.accounts.domain import Role
from reclaim.cases import case_view, casework
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.cases.models import Case
from reclaim.cases.viewing import has_preview
from reclaim.domain.states import IllegalTransitionError
from reclaim.partners import feedback
from reclaim.scanning import patrol
from reclaim.web.common import current_time, render, state_of
from reclaim.web.console import linkage
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import may, permitted
from reclaim.web.console.responses import cipher_of, redirect

router = APIRouter()

#: Roles that see reporters' contact details.  Social workers and police liaisons get
#: them through a referral, with the reporter's consent, not from the case page.
CONTACT_READERS = frozenset({Role.ANALYST, Role.SUPERVISOR})


#: Messages after a change (?notice=...), shown once on the page that follows.
NOTICES = frozenset(
    {
        "claimed",
        "assigned",
        "status_changed",
        "note_added",
        "fetched",
        "fetch_failed",
        "decided",
        "awaiting_second",
        "agreed",
        "identifier_added",
        "link_rejected",
    }
)


def case_or_404(staff: Staff, number: str) -> Case:
    case = casework.find_case(staff.db, number)
    if case is None:
        raise HTTPException(404, "no such case")
    return case


def case_url(case: Case, notice: str | None = None, anchor: str | None = None) -> str:
    url = f"/console/cases/{case.number}"
    if notice:
        url += f"?notice={notice}"
    if anchor:
        url += f"#{anchor}"
    return url


def render_case(
    request: Request,
    staff: Staff,
    case: Case,
    *,
    status: int = 200,
    error: str | None = None,
    error_item: int | None = None,
) -> Response:
    state = state_of(request)
    settings = state.settings
    view = case_view.load_case_view(
        staff.db,
        case,
        cipher=cipher_of(request),
        matcher=state.match_engine(),
        max_distance=settings.match_max_distance,
        show_contact=staff.role in CONTACT_READERS,
        video_rule=settings.video_rule(),
    )
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "active": "queue",
        "view": view,
        "case": case,
        "staff": staff.user,
        "can_work": may(staff, "console.case.status"),
        "can_review": may(staff, "console.media"),
        "can_decide": may(staff, "console.item.decide"),
        "can_assign": may(staff, "console.case.assign"),
        "assignable": casework.assignable_staff(staff.db)
        if may(staff, "console.case.assign")
        else [],
        "classifications": list(Classification),
        "notice": notice if notice in NOTICES else None,
        "error": error,
        "error_item": error_item,
        "has_preview": has_preview,
        "require_second": settings.require_second_analyst,
        "feedback": feedback.case_feedback_counts(staff.db, case.id),
        "now": current_time(request),
        "reuploads": patrol.finds_of_case(staff.db, case.id),
        **linkage.case_context(request, staff, case),
    }
    return render(request, "console/case.html", context, status)


@router.get("/cases/{number}", name="console.case")
def case_page(
    request: Request, number: str, staff: Annotated[Staff, permitted("console.case")]
) -> Response:
    case = case_or_404(staff, number)
    case_view.record_view(staff.db, case, viewer_id=staff.user.id)
    if staff.role in linkage.LINK_READERS:
        linkage.link_now(request, staff, case)  # links are current when someone looks
    staff.db.commit()
    return render_case(request, staff, case)


@router.post("/cases/{number}/status", name="console.case.status")
def change_status(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.status")],
    status: Annotated[str, Form()] = "",
) -> Response:
    case = case_or_404(staff, number)
    try:
        requested = CaseStatus(status)
        casework.change_status(staff.db, case, requested, actor_id=staff.user.id)
    except ValueError as exc:  # IllegalTransitionError is a ValueError too
        staff.db.rollback()
        code = "illegal_transition" if isinstance(exc, IllegalTransitionError) else "bad_status"
        return render_case(request, staff, case, status=409, error=code)
    staff.db.commit()
    return redirect(case_url(case, "status_changed"))


@router.post("/cases/{number}/notes", name="console.case.notes")
def add_note(
    request: Request,
    number: str,
    staff: Annotated[Staff, permitted("console.case.notes")],
    body: Annotated[str, Form()] = "",
) -> Response:
    case = case_or_404(staff, number)
    try:
        casework.add_note(
            staff.db,
            case,
            body,
            author_id=staff.user.id,
            cipher=cipher_of(request),
        )
    except casework.CaseError as exc:
        staff.db.rollback()
        return render_case(request, staff, case, status=400, error=exc.code)
    staff.db.commit()
    return redirect(case_url(case, "note_added", "notes"))
