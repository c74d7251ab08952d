"""The cookie that keeps a reporter in their case: signed, short-lived, tied to the PIN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reclaim.cases.models import Case
from reclaim.web.portal import case_cookie

SECRET = b"s" * 32
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def a_case(pin_hash: str = "$argon2id$first") -> Case:
    return Case(id=7, number="RC-2345-6789", pin_hash=pin_hash)


def read(value: str, now: datetime, case: Case | None = None) -> Case | None:
    found = case_cookie.read(SECRET, value, lambda _id: case or a_case(), now)
    return found[0] if found else None


def test_a_cookie_opens_its_case_until_it_is_idle_too_long() -> None:
    value = case_cookie.issue(SECRET, a_case(), START)
    assert read(value, START + timedelta(minutes=29)) is not None
    assert read(value, START + timedelta(minutes=30)) is None


def test_renewing_stops_at_the_absolute_limit() -> None:
    issued = START
    value = case_cookie.issue(SECRET, a_case(), START)
    now = START
    for _ in range(10):  # a page view every 20 minutes
        now += timedelta(minutes=20)
        found = case_cookie.read(SECRET, value, lambda _id: a_case(), now)
        if found is None:
            break
        value = case_cookie.issue(SECRET, a_case(), now, found[1])
        assert found[1] == issued
    assert now - START <= case_cookie.ABSOLUTE + timedelta(minutes=20)
    assert read(value, START + case_cookie.ABSOLUTE) is None


def test_a_forged_or_foreign_cookie_opens_nothing() -> None:
    value = case_cookie.issue(SECRET, a_case(), START)
    case_id, issued, expires, mac = value.split(".")
    assert read(f"{case_id}.{issued}.{int(expires) + 3600}.{mac}", START) is None
    assert read(f"8.{issued}.{expires}.{mac}", START) is None
    assert case_cookie.read(b"other" * 8, value, lambda _id: a_case(), START) is None
    assert read(value, START, a_case("$argon2id$new-pin")) is None  # a new PIN ends it
    for junk in ("", "x", "1.2.3", "a.b.c.d", "7.1.9999999999.é"):
        assert read(junk, START) is None
