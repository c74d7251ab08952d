"""Console routes: one's own account (password, recovery codes, live sessions).

This router also carries the login and enrolment pages (login.py, enrolment.py), so
the console package mounts everything about staff accounts in one place.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from reclaim import audit
from reclaim.accounts import login, recovery_codes, staff_sessions, users
from reclaim.accounts.models import StaffSession
from reclaim.accounts.passwords import MAX_LENGTH
from reclaim.web.common import render, state_of
from reclaim.web.console import enrolment as enrolment_pages
from reclaim.web.console import login as login_pages
from reclaim.web.console.auth import LOGIN_PATH, Staff, session_policy
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import clear_staff_cookie, login_guard, redirect, settings_of

router = APIRouter()
router.include_router(login_pages.router)
router.include_router(enrolment_pages.router)

AnyStaff = Annotated[Staff, permitted("console.account")]
PasswordField = Annotated[str, Form(max_length=MAX_LENGTH * 4)]
NOTICES = frozenset({"password_changed", "session_ended"})


def account_page(
    request: Request,
    staff: Staff,
    *,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    user = staff.user
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "active": "account",
        "person": user,
        "sessions": staff_sessions.live_sessions(
            staff.db, user.id, session_policy(request), clock=state_of(request).clock
        ),
        "current_session_id": staff.session.id,
        "codes_left": recovery_codes.remaining(staff.db, user.id),
        "codes_issued": recovery_codes.last_issued(staff.db, user.id),
        "min_length": settings_of(request).password_min_length,
        "errors": errors or {},
        "notice": notice if notice in NOTICES else None,
    }
    return render(request, "console/account.html", context, status)


@router.get("/account", name="console.account")
def account(request: Request, staff: AnyStaff) -> Response:
    return account_page(request, staff)


@router.post("/account/password", name="console.account.password")
def change_password(
    request: Request,
    staff: Annotated[Staff, permitted("console.account.password")],
    current: PasswordField = "",
    new: PasswordField = "",
    confirm: PasswordField = "",
) -> Response:
    db = staff.db
    if not login.confirm_password(db, login_guard(request), staff.user, current):
        db.commit()  # the failed attempt counts towards the lock
        return account_page(request, staff, errors={"password": ["wrong_current"]}, status=400)
    if new != confirm:
        return account_page(request, staff, errors={"password": ["mismatch"]}, status=400)
    problems = users.change_password(
        db,
        staff.user,
        new,
        min_length=settings_of(request).password_min_length,
        keep=staff.session,
        actor=audit.Actor.user(staff.user.id),
    )
    if problems:
        errors = {"password": [p.value for p in problems]}
        return account_page(request, staff, errors=errors, status=400)
    db.commit()
    return redirect("/console/account?notice=password_changed")


@router.post("/account/recovery-codes", name="console.account.recovery_codes")
def new_recovery_codes(
    request: Request,
    staff: Annotated[Staff, permitted("console.account.recovery_codes")],
    password: PasswordField = "",
) -> Response:
    db = staff.db
    if not login.confirm_password(db, login_guard(request), staff.user, password):
        db.commit()
        return account_page(request, staff, errors={"codes": ["wrong_current"]}, status=400)
    codes = recovery_codes.issue(db, staff.user, actor=audit.Actor.user(staff.user.id))
    db.commit()
    context = {"active": "account", "person": staff.user, "codes": codes}
    return render(request, "console/recovery_codes.html", context)


@router.post("/account/sessions/{session_id}/end", name="console.account.end_session")
def end_session(
    request: Request,
    session_id: int,
    staff: Annotated[Staff, permitted("console.account.end_session")],
) -> Response:
    db = staff.db
    record = db.get(StaffSession, session_id)
    if record is None or record.user_id != staff.user.id:
        raise HTTPException(404, "no such session")
    staff_sessions.end_own(db, record, clock=state_of(request).clock)
    db.commit()
    if record.id == staff.session.id:
        response = redirect(f"{LOGIN_PATH}?notice=logged_out")
        clear_staff_cookie(request, response)
        return response
    return redirect("/console/account?notice=session_ended")


@router.post("/account/sessions/end-all", name="console.account.end_all_sessions")
def end_all_sessions(
    request: Request, staff: Annotated[Staff, permitted("console.account.end_all_sessions")]
) -> Response:
    """Log out everywhere, this browser included."""
    users.revoke_sessions(staff.db, staff.user, actor=audit.Actor.user(staff.user.id))
    staff.db.commit()
    response = redirect(f"{LOGIN_PATH}?notice=sessions_ended")
    clear_staff_cookie(request, response)
    return response
