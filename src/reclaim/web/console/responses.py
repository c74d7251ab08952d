"""What every console page shares: rendering, redirects, the staff cookie, and the
collaborators built from settings (field cipher, login throttle)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from reclaim.accounts.domain import Role
from reclaim.accounts.login import Guard, LoginLimits
from reclaim.config import Settings
from reclaim.domain.languages import Language
from reclaim.security.field_crypto import FieldCipher, field_cipher
from reclaim.security.throttle import Throttle
from reclaim.web.common import state_of
from reclaim.web.console import permissions
from reclaim.web.console.auth import LOGIN_PATH
from reclaim.web.csrf import STAFF_COOKIE
from reclaim.web.deps import client_address

HOME = "/console/"
QUEUE_ROUTE = "console.queue"
#: The staff cookie goes only to console pages: portal pages never see it.
STAFF_COOKIE_PATH = "/console"
#: The files the console hands out (reports, exports, evidence packages), by suffix.
FILE_TYPES = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def settings_of(request: Request) -> Settings:
    return state_of(request).settings


def cipher_of(request: Request) -> FieldCipher:
    return field_cipher(settings_of(request))


def login_guard(request: Request) -> Guard:
    settings = settings_of(request)
    limits = LoginLimits.of(
        per_account=settings.login_max_failures_per_account,
        per_client=settings.login_max_failures_per_client,
        lockout_minutes=settings.login_lockout_minutes,
    )
    throttle = Throttle(settings.secret_bytes, clock=state_of(request).clock)
    return Guard(throttle, limits, client_address(request), clock=state_of(request).clock)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_target(target: str | None) -> str:
    """Where to go after logging in: a console path of ours, never another site ("" if
    ``target`` is not one; see :func:`home_for`)."""
    if not target or not target.startswith("/console") or "\\" in target:
        return ""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(LOGIN_PATH):
        return ""
    return target


def home_for(role: Role) -> str:
    """The first page after login: the queue for those who work it, else what they may use."""
    for route_name, path in (
        (QUEUE_ROUTE, HOME),
        ("console.users", "/console/users"),
        ("console.referred", "/console/referred"),
    ):
        granted = permissions.ROUTES.get(route_name)
        if granted is not None and granted.allows(role):
            return path
    return "/console/account"


def set_staff_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        STAFF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).secure_cookies,
        path=STAFF_COOKIE_PATH,
    )
    # Forms rendered later in this same request bind their CSRF token to the new session.
    request.state.staff_token = token


def clear_staff_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        STAFF_COOKIE,
        path=STAFF_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings_of(request).secure_cookies,
    )


def download(
    body: bytes | str,
    filename: str,
    *,
    language: Language | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A file for staff to save, typed by its suffix (one of :data:`FILE_TYPES`) and
    never cached: what it holds is case content or figures behind the login."""
    return Response(
        body,
        media_type=FILE_TYPES[filename.rpartition(".")[2]],
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "no-store",
            **({"content-language": language.tag} if language is not None else {}),
            **(headers or {}),
        },
    )
