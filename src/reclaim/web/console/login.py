"""Logging in (password, then TOTP or a recovery code) and out.

After the password the browser gets a session that reaches only the second-factor
page; passing the second factor rotates it into a full session with a new token, so a
token seen before login is worthless after it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from reclaim.accounts import login, staff_sessions
from reclaim.accounts.login import LoginRefusedError, Refusal
from reclaim.accounts.models import StaffSession
from reclaim.web.common import render
from reclaim.web.console.auth import LOGIN_PATH, SECOND_FACTOR_PATH, Staff, session_policy
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import (
    cipher_of,
    clear_staff_cookie,
    home_for,
    local_target,
    login_guard,
    redirect,
    set_staff_cookie,
)
from reclaim.web.csrf import STAFF_COOKIE
from reclaim.web.deps import DbSession

router = APIRouter()

FormText = Annotated[str, Form(max_length=1024)]
HalfLoggedIn = Annotated[Staff, permitted("console.second_factor")]
NOTICES = frozenset({"logged_out", "locked", "expired", "sessions_ended", "enrolled"})


def current_session(request: Request, db: DbSession) -> StaffSession | None:
    """The browser's live session, if any (half or fully logged in)."""
    record = staff_sessions.resolve(
        db,
        request.cookies.get(STAFF_COOKIE),
        session_policy(request),
        clock=request.app.state.reclaim.clock,
    )
    db.commit()
    return record


def _login_page(
    request: Request,
    *,
    next_url: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    notice = request.query_params.get("notice")
    context = {
        "next": next_url,
        "email": email,
        "error": error,
        "notice": notice if notice in NOTICES else None,
    }
    return render(request, "console/login.html", context, status)


@router.get(LOGIN_PATH.removeprefix("/console"), name="console.login")
def login_page(request: Request, db: DbSession, next: str | None = None) -> Response:
    record = current_session(request, db)
    if record is not None and record.mfa_passed:
        return redirect(local_target(next) or home_for(record.user.role))
    return _login_page(request, next_url=local_target(next))


@router.post(LOGIN_PATH.removeprefix("/console"), name="console.login.submit")
def login_submit(
    request: Request,
    db: DbSession,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "",
) -> Response:
    target = local_target(next)
    if not email.strip() or not password:
        return _login_page(request, next_url=target, email=email, error="missing", status=400)
    guard = login_guard(request)
    try:
        user = login.check_password(db, guard, email=email, password=password)
    except LoginRefusedError as refused:
        db.commit()  # the failure counts and its audit rows stay
        status = 429 if refused.refusal is Refusal.LOCKED else 400
        return _login_page(
            request, next_url=target, email=email, error=refused.refusal.value, status=status
        )
    previous = current_session(request, db)
    if previous is not None:
        staff_sessions.end(db, previous, clock=guard.clock)
    started = staff_sessions.start(
        db,
        user,
        session_policy(request),
        mfa_passed=False,
        client=guard.client,
        user_agent=request.headers.get("user-agent"),
        clock=guard.clock,
    )
    db.commit()
    response = redirect(SECOND_FACTOR_PATH + (f"?next={quote(target, safe='')}" if target else ""))
    set_staff_cookie(request, response, started.token)
    return response


def _second_factor_page(
    request: Request, staff: Staff, *, next_url: str, error: str | None = None, status: int = 200
) -> Response:
    context = {"next": next_url, "error": error, "person": staff.user}
    return render(request, "console/second_factor.html", context, status)


@router.get(SECOND_FACTOR_PATH.removeprefix("/console"), name="console.second_factor")
def second_factor_page(request: Request, staff: HalfLoggedIn, next: str | None = None) -> Response:
    if staff.session.mfa_passed:
        return redirect(local_target(next) or home_for(staff.role))
    return _second_factor_page(request, staff, next_url=local_target(next))


@router.post(SECOND_FACTOR_PATH.removeprefix("/console"), name="console.second_factor.submit")
def second_factor_submit(
    request: Request, staff: HalfLoggedIn, code: FormText = "", next: FormText = ""
) -> Response:
    target = local_target(next) or home_for(staff.role)
    if staff.session.mfa_passed:
        return redirect(target)
    if not code.strip():
        return _second_factor_page(request, staff, next_url=target, error="missing", status=400)
    db, guard = staff.db, login_guard(request)
    try:
        method = login.check_second_factor(db, guard, staff.user, code, cipher=cipher_of(request))
    except LoginRefusedError as refused:
        if refused.refusal is Refusal.LOCKED:
            # Start again from the password once the lock lifts.
            staff_sessions.end(db, staff.session, clock=guard.clock)
            db.commit()
            response = redirect(f"{LOGIN_PATH}?notice=locked")
            clear_staff_cookie(request, response)
            return response
        db.commit()
        return _second_factor_page(request, staff, next_url=target, error="invalid", status=400)
    login.succeeded(db, guard, staff.user, method)
    rotated = staff_sessions.rotate(
        db, staff.session, session_policy(request), mfa_passed=True, clock=guard.clock
    )
    db.commit()
    response = redirect(target)
    set_staff_cookie(request, response, rotated.token)
    return response


@router.post("/logout", name="console.logout")
def logout(request: Request, db: DbSession) -> Response:
    record = current_session(request, db)
    if record is not None:
        staff_sessions.log_out(db, record, clock=request.app.state.reclaim.clock)
        db.commit()
    response = redirect(f"{LOGIN_PATH}?notice=logged_out")
    clear_staff_cookie(request, response)
    return response
