"""CSRF protection for every state-changing request of the portal and the console.

Each browser gets a random ``reclaim_csrf`` cookie (HttpOnly, SameSite=Strict).  Forms
carry a token that is an HMAC of that cookie and, for staff, of their session token, so
a token is worthless in another browser or after login rotates the session.  POST, PUT,
PATCH and DELETE requests on a router that uses :func:`csrf_protect` are refused with
403 unless the form field ``csrf_token`` (or the ``X-CSRF-Token`` header) matches, and
unless the ``Origin`` header, when the browser sends one, is our own.

Routers attach it once (``APIRouter(dependencies=[Depends(csrf_protect)])``), so no
route can forget it.  The partner API (``/api``) authenticates with keys, not cookies,
and does not use it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response

CSRF_COOKIE = "reclaim_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
STAFF_COOKIE = "reclaim_staff"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _secret(request: Request) -> bytes:
    state = request.app.state.reclaim
    return bytes(state.settings.secret_bytes)


def _seed(request: Request) -> str:
    """This browser's CSRF cookie, creating one for the response if it has none."""
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(32)
        request.state.csrf_seed = seed
        request.state.csrf_new = True
    return str(seed)


def csrf_token(request: Request) -> str:
    """The token forms in this response must carry."""
    binding = request.cookies.get(STAFF_COOKIE, "")
    if getattr(request.state, "staff_token", None):
        binding = request.state.staff_token  # a session started during this request
    return token_for(_secret(request), _seed(request), binding)


def token_for(secret: bytes, seed: str, binding: str) -> str:
    """The token for one browser's CSRF cookie (``seed``) and staff session token."""
    message = f"csrf\0{seed}\0{binding}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the cookie if this request created it (render() calls this)."""
    if getattr(request.state, "csrf_new", False):
        state = request.app.state.reclaim
        response.set_cookie(
            CSRF_COOKIE,
            request.state.csrf_seed,
            httponly=True,
            samesite="strict",
            secure=state.settings.secure_cookies,
            path="/",
        )


def _same_origin(request: Request, origin: str) -> bool:
    state = request.app.state.reclaim
    allowed = {state.settings.base_url.rstrip("/")}
    host = request.headers.get("host")
    if host:
        allowed.add(f"{request.url.scheme}://{host}")
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" in allowed


async def csrf_protect(request: Request) -> AsyncIterator[None]:
    """Router dependency: refuse an unsafe request without a valid token."""
    try:
        await _check(request)
        yield
    finally:
        # Uploaded parts are spooled to temporary files, which a route without file
        # parameters would never close.
        form = getattr(request.state, "csrf_form", None)
        if form is not None:
            await form.close()


async def _check(request: Request) -> None:
    if request.method not in _UNSAFE:
        return
    origin = request.headers.get("origin")
    # Pages are served with Referrer-Policy: no-referrer, under which browsers send
    # "Origin: null" with every POST, even from our own pages; a "null" origin proves
    # nothing either way, and the SameSite=Strict cookie and the token below still stop
    # cross-site requests.
    if origin is not None and origin != "null" and not _same_origin(request, origin):
        raise HTTPException(403, "cross-origin request refused")
    if CSRF_COOKIE not in request.cookies:
        raise HTTPException(403, "missing CSRF cookie; reload the page and try again")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            request.state.csrf_form = form
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    # Bytes: compare_digest raises TypeError on str with non-ASCII characters.
    expected = csrf_token(request).encode()
    if not sent or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected):
        raise HTTPException(403, "invalid CSRF token; reload the page and try again")
