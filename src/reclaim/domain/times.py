"""Times for people: stored in UTC, shown in the operator's time zone with the zone named.

Reclaim stores and exchanges every moment as aware UTC (the database, the audit trail,
the partner API, machine exports in ISO 8601 with their offset).  People read them in
the hotline's own zone (``RECLAIM_TIME_ZONE``, Taipei by default): the console, the
reports for the authority.  This module is the one place that turns a moment into
words for a person, so a staff member in UTC+8 never has to add eight hours in their
head, and a printed report says which clock it speaks of.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Asia/Taipei"


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone called ``name`` (``Asia/Taipei``), or a ValueError that says why not."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"{name!r} is not an IANA time zone name (such as Asia/Taipei or Europe/London)"
        ) from exc


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The same instant on the zone's clock."""
    if moment.tzinfo is None:
        # Every stored time is UTC; a naive one comes from a driver that dropped the zone.
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def offset_name(offset: timedelta | None) -> str:
    """``UTC+8``, ``UTC-3:30``, ``UTC``: the offset as people write it."""
    minutes = round((offset or timedelta()).total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def for_people(moment: datetime, zone: ZoneInfo) -> str:
    """``2026-11-02 17:00 UTC+8``: minutes are enough for people; the offset names the clock."""
    there = local(moment, zone)
    return f"{there:%Y-%m-%d %H:%M} {offset_name(there.utcoffset())}"


def date_for_people(moment: datetime, zone: ZoneInfo) -> str:
    """``2026-11-02``: the calendar day in the zone (which may not be the UTC day)."""
    return f"{local(moment, zone):%Y-%m-%d}"


def for_spreadsheets(moment: datetime, zone: ZoneInfo) -> str:
    """``2026-11-02 17:00``: a form spreadsheet programs read as a date and time; the
    column heading names the zone."""
    return f"{local(moment, zone):%Y-%m-%d %H:%M}"
