"""Who is asking: the staff session behind a console request, and what their role allows.

Console routes declare ``staff: Annotated[Staff, require(Role.ANALYST, ...)]``.  Anyone
without a live session is redirected to the login page; a session that has passed the
password but not yet the second factor reaches only the second-factor pages; a role
that is not listed gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.routing import Match

from reclaim.accounts import staff_sessions
from reclaim.accounts.domain import Role
from reclaim.accounts.models import StaffSession, User
from reclaim.accounts.staff_sessions import SessionPolicy
from reclaim.web.csrf import STAFF_COOKIE
from reclaim.web.deps import DbSession

LOGIN_PATH = "/console/login"
SECOND_FACTOR_PATH = "/console/login/second-factor"
ALL_ROLES = tuple(Role)


class LoginRequiredError(Exception):
    """No live staff session: the handler in app.py redirects to the login page."""

    def __init__(self, location: str) -> None:
        self.location = location


class RoleRefusedError(HTTPException):
    """A logged-in staff member whose role may not use this page (403; the error page
    says which roles may, so it is not mistaken for an expired form)."""

    def __init__(self, role: Role, allowed: frozenset[Role]) -> None:
        super().__init__(403, "your role does not allow this")
        self.role = role
        self.allowed = sorted(allowed, key=list(Role).index)


@dataclass(frozen=True, slots=True)
class Staff:
    user: User
    session: StaffSession
    db: Session

    @property
    def role(self) -> Role:
        return self.user.role


def session_policy(request: Request) -> SessionPolicy:
    settings = request.app.state.reclaim.settings
    return SessionPolicy.of(settings.session_idle_minutes, settings.session_absolute_hours)


def _login_redirect(request: Request) -> LoginRequiredError:
    """To the login page, then back: to the page itself, or for a form that was posted
    (a note typed while the session ran out), to the page the form belongs to."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = _page_of(request)
    return LoginRequiredError(f"{LOGIN_PATH}?next={quote(target, safe='')}")


def _page_of(request: Request) -> str:
    """The longest leading part of the path that is a console page (a GET route)."""
    parts = request.url.path.rstrip("/").split("/")
    while len(parts) > 2:
        path = "/".join(parts)
        scope = {"type": "http", "path": path, "method": "GET"}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            return path
        parts.pop()
    return "/console/"


def _resolve(request: Request, session: Session) -> StaffSession | None:
    record = staff_sessions.resolve(
        session,
        request.cookies.get(STAFF_COOKIE),
        session_policy(request),
        clock=request.app.state.reclaim.clock,
    )
    session.commit()  # the touch (or the expiry) of the session
    return record


def half_logged_in(request: Request, session: DbSession) -> Staff:
    """A session that passed the password, with or without the second factor yet."""
    record = _resolve(request, session)
    if record is None:
        raise _login_redirect(request)
    return Staff(record.user, record, session)


def require(*roles: Role) -> Any:
    """Dependency: a fully logged-in staff member whose role is one of ``roles``."""
    allowed = frozenset(roles or ALL_ROLES)

    def dependency(request: Request, session: DbSession) -> Staff:
        record = _resolve(request, session)
        if record is None:
            raise _login_redirect(request)
        if not record.mfa_passed:
            raise LoginRequiredError(SECOND_FACTOR_PATH)
        if record.user.role not in allowed:
            raise RoleRefusedError(record.user.role, allowed)
        request.state.staff = record.user
        return Staff(record.user, record, session)

    return Depends(dependency)
