from datetime import UTC, datetime, timedelta

import pytest

from reclaim.domain.times import (
    date_for_people,
    for_people,
    for_spreadsheets,
    offset_name,
    zone_named,
)

TAIPEI = zone_named("Asia/Taipei")
T = datetime(2026, 11, 2, 9, 5, 59, 999_999, tzinfo=UTC)


def test_staff_in_taipei_read_their_own_clock() -> None:
    assert for_people(T, TAIPEI) == "2026-11-02 17:05 UTC+8"
    assert for_spreadsheets(T, TAIPEI) == "2026-11-02 17:05"
    late = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)
    assert date_for_people(late, TAIPEI) == "2026-11-03"  # already tomorrow in Taipei
    assert for_people(T.replace(tzinfo=None), TAIPEI) == "2026-11-02 17:05 UTC+8"  # stored UTC


def test_offsets_are_named_as_people_write_them() -> None:
    assert offset_name(timedelta(0)) == "UTC"
    assert offset_name(timedelta(hours=5, minutes=30)) == "UTC+5:30"
    assert offset_name(timedelta(hours=-3, minutes=-30)) == "UTC-3:30"
    assert for_people(T, zone_named("America/St_Johns")) == "2026-11-02 05:35 UTC-3:30"
    # Daylight saving moves the offset, and the text says so.
    london = zone_named("Europe/London")
    assert for_people(datetime(2026, 7, 1, 12, tzinfo=UTC), london) == "2026-07-01 13:00 UTC+1"
    assert for_people(datetime(2026, 12, 1, 12, tzinfo=UTC), london) == "2026-12-01 12:00 UTC"


@pytest.mark.parametrize("name", ["Taipei", "UTC+8", "Asia/Nowhere", "", "../etc/passwd"])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        zone_named(name)
