"""Keeping a reporter "in" their case for a while after a successful check.

The cookie names the case and when it was issued and expires, with an HMAC over
those and the case's PIN hash (so a new PIN ends it).  It is HttpOnly, SameSite=Strict
and limited to /case; each page view extends it, up to an absolute limit.  There is
nothing on the server to revoke, which is why it is short: leaving the case page
deletes it, and otherwise it ends on its own.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import Response

from reclaim.cases.models import Case

COOKIE = "reclaim_case"
PATH = "/case"
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=2)


def _mac(secret: bytes, case: Case, issued: int, expires: int) -> str:
    message = f"reclaim-case\0{case.id}\0{issued}\0{expires}\0{case.pin_hash}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def issue(secret: bytes, case: Case, now: datetime, issued: datetime | None = None) -> str:
    start = int((issued or now).timestamp())
    expires = int(min(now + IDLE, datetime.fromtimestamp(start, now.tzinfo) + ABSOLUTE).timestamp())
    return f"{case.id}.{start}.{expires}.{_mac(secret, case, start, expires)}"


def read(
    secret: bytes, value: str | None, load: Callable[[int], Case | None], now: datetime
) -> tuple[Case, datetime] | None:
    """The case the cookie opens and when it was first issued, or None."""
    if not value:
        return None
    try:
        case_id, issued, expires, mac = value.split(".")
        wanted, start, end = int(case_id), int(issued), int(expires)
    except ValueError:
        return None
    case = load(wanted)
    if case is None or case.id != wanted:
        return None
    # As bytes: compare_digest refuses str with non-ASCII characters, which a cookie may hold.
    if not hmac.compare_digest(mac.encode(), _mac(secret, case, start, end).encode()):
        return None
    if now.timestamp() >= end:
        return None
    return case, datetime.fromtimestamp(start, now.tzinfo)


def set_cookie(response: Response, value: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(IDLE.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=secure,
        path=PATH,
    )


def delete_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict", secure=secure)
