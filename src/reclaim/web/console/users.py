"""Console routes: user administration (admins only).

Admins invite people (the page shows the one-time enrolment link to hand over), change
roles, deactivate and reactivate accounts, reset them (a new link; password, TOTP and
recovery codes are wiped) and end their sessions.  An admin changes their own account
on the account page, never here, so the last admin cannot lock everyone out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from reclaim import audit
from reclaim.accounts import enrolment, recovery_codes, staff_sessions
from reclaim.accounts import users as accounts
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.web.common import render, state_of
from reclaim.web.console.auth import Staff, session_policy
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import redirect, settings_of

router = APIRouter()

NOTICES = frozenset({"role_changed", "deactivated", "reactivated", "sessions_revoked"})
Text = Annotated[str, Form(max_length=300)]


def _actor(staff: Staff) -> audit.Actor:
    return audit.Actor.user(staff.user.id)


def _users_page(
    request: Request,
    staff: Staff,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "active": "users",
        "people": accounts.list_users(staff.db),
        "live": accounts.live_session_counts(staff.db, session_policy(request)),
        "roles": list(Role),
        "error": error,
        "form": form or {},
    }
    return render(request, "console/users.html", context, status)


def _other_user(staff: Staff, user_id: int) -> User:
    user = accounts.get_user(staff.db, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    if user.id == staff.user.id:
        raise HTTPException(409, "change your own account on the account page")
    return user


def _link_page(request: Request, user: User, token: str, *, created: bool) -> Response:
    settings = settings_of(request)
    context = {
        "active": "users",
        "person": user,
        "link": enrolment.enrolment_link(settings.base_url, token),
        "hours": settings.enrolment_link_hours,
        "created": created,
    }
    return render(request, "console/user_link.html", context, 201 if created else 200)


@router.get("/users", name="console.users")
def users(request: Request, staff: Annotated[Staff, permitted("console.users")]) -> Response:
    return _users_page(request, staff)


@router.post("/users", name="console.users.create")
def create_user(
    request: Request,
    staff: Annotated[Staff, permitted("console.users.create")],
    email: Text = "",
    name: Text = "",
    role: Text = "",
) -> Response:
    form = {"email": email, "name": name, "role": role}
    if role not in {r.value for r in Role}:
        return _users_page(request, staff, error="role", form=form, status=400)
    try:
        invitation = enrolment.invite(
            staff.db,
            email=email,
            role=Role(role),
            display_name=name,
            hours=settings_of(request).enrolment_link_hours,
            actor=_actor(staff),
            created_by=staff.user,
        )
    except accounts.AccountError:
        staff.db.rollback()
        error = "exists" if accounts.find_user(staff.db, email) else "email"
        return _users_page(request, staff, error=error, form=form, status=400)
    staff.db.commit()
    return _link_page(request, invitation.user, invitation.token, created=True)


@router.get("/users/{user_id}", name="console.user")
def user_page(
    request: Request, user_id: int, staff: Annotated[Staff, permitted("console.user")]
) -> Response:
    user = accounts.get_user(staff.db, user_id)
    if user is None:
        raise HTTPException(404, "no such user")
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "active": "users",
        "person": user,
        "is_self": user.id == staff.user.id,
        "enrolled": accounts.is_enrolled(user),
        "roles": list(Role),
        "sessions": staff_sessions.live_sessions(
            staff.db, user.id, session_policy(request), clock=state_of(request).clock
        ),
        "codes_left": recovery_codes.remaining(staff.db, user.id),
        "notice": notice if notice in NOTICES else None,
    }
    return render(request, "console/user.html", context)


@router.post("/users/{user_id}/role", name="console.user.role")
def change_role(
    user_id: int, staff: Annotated[Staff, permitted("console.user.role")], role: Text = ""
) -> Response:
    user = _other_user(staff, user_id)
    if role not in {r.value for r in Role}:
        raise HTTPException(400, "unknown role")
    accounts.change_role(staff.db, user, Role(role), actor=_actor(staff))
    staff.db.commit()
    return redirect(f"/console/users/{user.id}?notice=role_changed")


def _change_other(
    staff: Staff, user_id: int, change: Callable[..., object], notice: str
) -> Response:
    """Apply an audited account change to another user, then show their page."""
    user = _other_user(staff, user_id)
    change(staff.db, user, actor=_actor(staff))
    staff.db.commit()
    return redirect(f"/console/users/{user.id}?notice={notice}")


@router.post("/users/{user_id}/deactivate", name="console.user.deactivate")
def deactivate(
    user_id: int, staff: Annotated[Staff, permitted("console.user.deactivate")]
) -> Response:
    return _change_other(staff, user_id, accounts.deactivate, "deactivated")


@router.post("/users/{user_id}/reactivate", name="console.user.reactivate")
def reactivate(
    user_id: int, staff: Annotated[Staff, permitted("console.user.reactivate")]
) -> Response:
    return _change_other(staff, user_id, accounts.reactivate, "reactivated")


@router.post("/users/{user_id}/reset", name="console.user.reset")
def reset(
    request: Request, user_id: int, staff: Annotated[Staff, permitted("console.user.reset")]
) -> Response:
    user = _other_user(staff, user_id)
    try:
        token = enrolment.reset(
            staff.db,
            user,
            hours=settings_of(request).enrolment_link_hours,
            actor=_actor(staff),
            created_by=staff.user,
        )
    except accounts.AccountError:
        raise HTTPException(409, "reactivate the account first") from None
    staff.db.commit()
    return _link_page(request, user, token, created=False)


@router.post("/users/{user_id}/revoke-sessions", name="console.user.revoke_sessions")
def revoke_sessions(
    user_id: int, staff: Annotated[Staff, permitted("console.user.revoke_sessions")]
) -> Response:
    return _change_other(staff, user_id, accounts.revoke_sessions, "sessions_revoked")
