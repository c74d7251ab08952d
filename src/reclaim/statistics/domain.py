"""Statistics: pure values — periods on the operator's clock, filters, the spread of a
duration (median, p90, max), the types of exploitation as the ministry counts them, and
the small-cell rule that keeps public figures from singling out a child.

Percentiles are *nearest-rank*: the p-th percentile of n sorted values is the value at
rank ceil(p * n) (1-based).  The database computes it with window functions
(``statistics/sql.py``); this definition is what the tests' slow twin checks it against.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from reclaim.cases.domain import Classification
from reclaim.domain.states import StateMachine

# --- periods on the operator's clock ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """Calendar days ``first`` to ``last`` (inclusive) on the operator's clock.

    ``start``/``end`` are the UTC instants that bound it (end exclusive).  Months are
    counted on the operator's clock with the zone's offset at the start of the period:
    exact for Taipei (no daylight saving); in a zone with daylight saving, events within
    an hour of midnight on the first of a month across a change may land in the
    neighbouring month.
    """

    first: date
    last: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a period ends on or after the day it starts")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time(), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        next_day = self.last + timedelta(days=1)
        return datetime.combine(next_day, datetime.min.time(), self.zone).astimezone(UTC)

    @property
    def offset_minutes(self) -> int:
        """The zone's offset from UTC at the start of the period, in minutes."""
        offset = self.start.astimezone(self.zone).utcoffset() or timedelta()
        return round(offset.total_seconds() / 60)

    def months(self) -> list[str]:
        """Every month the period touches, ``YYYY-MM``, in order."""
        found: list[str] = []
        year, month = self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found

    @classmethod
    def month(cls, year: int, month: int, zone: ZoneInfo) -> Period:
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return cls(date(year, month, 1), following - timedelta(days=1), zone)

    @classmethod
    def year(cls, year: int, zone: ZoneInfo) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), zone)

    @classmethod
    def last_months(cls, today: date, count: int, zone: ZoneInfo) -> Period:
        """The ``count`` whole months up to and including today's month."""
        year, month = today.year, today.month - (count - 1)
        while month < 1:
            year, month = year - 1, month + 12
        return cls(date(year, month, 1), today, zone)

    def label(self) -> str:
        return f"{self.first:%Y-%m-%d} – {self.last:%Y-%m-%d}"


def previous_month(today: date) -> tuple[int, int]:
    """(year, month) of the month before ``today``'s."""
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


@dataclass(frozen=True, slots=True)
class Filter:
    """What the figures are restricted to, besides the period.

    ``platform_id`` restricts takedown figures; ``classification`` restricts intake
    figures (reports with an item decided so), takedown figures (pages noticed so) and
    hotline work (cases with such an item); ``urgent`` restricts intake figures and
    hotline work (takedown is per page, which many cases may share).
    """

    period: Period
    platform_id: int | None = None
    classification: Classification | None = None
    urgent: bool | None = None


# --- durations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spread:
    """How long something took across ``count`` cases: nearest-rank median and 90th
    percentile, and the longest, in hours."""

    count: int
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None

    @classmethod
    def from_seconds(
        cls, count: int, median: float | None, p90: float | None, top: float | None
    ) -> Spread:
        def hours(value: float | None) -> float | None:
            return None if value is None else round(float(value) / 3600, 2)

        return cls(count, hours(median), hours(p90), hours(top))


EMPTY_SPREAD = Spread(0, None, None, None)


def nearest_rank(values: Sequence[float], numerator: int, denominator: int) -> float | None:
    """The nearest-rank percentile numerator/denominator of ``values`` (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-len(ordered) * numerator // denominator)  # ceil without floats
    return ordered[max(rank, 1) - 1]


# --- the types of exploitation ------------------------------------------------------------


class MinistryType(enum.StrEnum):
    """The types of the Child and Youth Sexual Exploitation Prevention Act art. 2 that
    the Ministry of Health and Welfare counts, as far as an online hotline meets them,
    and the adults' cases of the Sexual Assault Crime Prevention Act art. 13."""

    SEXUAL_IMAGES = "sexual_images"  # art. 2(1)(3): filming, making, distributing images
    GROOMING = "grooming"  # not an art. 2 type by itself: a sexual approach to a child
    ADULT_IMAGES = "adult_images"  # not art. 2: an adult's image shared without consent


#: What an analyst's decision counts as: the ministry's type and Reclaim's online subtype.
#: An image made or altered with AI is "making" a sexual image (art. 2(1)(3)); a legal
#: reviewer confirms this mapping before a deployment reports to the ministry.
TYPE_OF: dict[Classification, MinistryType] = {
    Classification.CSAM: MinistryType.SEXUAL_IMAGES,
    Classification.SELF_GENERATED_MINOR: MinistryType.SEXUAL_IMAGES,
    Classification.SYNTHETIC_MINOR: MinistryType.SEXUAL_IMAGES,
    Classification.SEXTORTION_THREAT: MinistryType.SEXUAL_IMAGES,
    Classification.GROOMING: MinistryType.GROOMING,
    Classification.ADULT_NCII: MinistryType.ADULT_IMAGES,
}

#: The decisions counted as a type of exploitation, in the order reports list them.
COUNTED_TYPES: tuple[Classification, ...] = tuple(TYPE_OF)


class Channel(enum.StrEnum):
    """How a report reached the hotline."""

    HASH_ONLY = "hash_only"  # files hashed on the device, no address
    URL = "url"  # at least one address
    EMPTY = "empty"  # neither (a threat described in words)


# --- tables: every figure as rows, for pages, exports and reports -----------------------


@dataclass(frozen=True, slots=True)
class Table:
    """A named table of figures: ``key`` names it in exports (stable, documented in
    docs/statistics.md); columns are stable identifiers, labels are for people."""

    key: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | int | float | None, ...], ...]
    notes: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[tuple[str | int | float | None, ...]]:
        return iter(self.rows)


# --- small cells --------------------------------------------------------------------------


def suppress(count: int, threshold: int) -> int | str:
    """A public count: 0 as it is; 1 to ``threshold - 1`` as ``<threshold``; anything
    larger rounded to the nearest multiple of ``threshold`` (halves up).

    Rounding is what keeps a suppressed cell hidden where its table's total is shown:
    the total minus the other cells is off by up to half a step per cell, so the hidden
    count cannot be worked out by subtraction.
    """
    if count == 0:
        return 0
    if count < threshold:
        return f"<{threshold}"
    return ((2 * count + threshold) // (2 * threshold)) * threshold


class FilterError(ValueError):
    """A filter a person typed that does not make sense (said in plain words)."""


def parse_filter(  # noqa: C901 - one check per option, each with its own message
    *,
    first: str | None,
    last: str | None,
    zone: ZoneInfo,
    today: date,
    platform_id: str | int | None = None,
    classification: str | None = None,
    urgent: str | None = None,
    default_months: int = 12,
) -> Filter:
    """A filter from text (query parameters, command-line options); dates ``YYYY-MM-DD``
    or a month ``YYYY-MM``; without dates, the last ``default_months`` months."""
    try:
        start = _day(first, end=False) if first else None
        stop = _day(last, end=True) if last else None
    except ValueError as exc:
        raise FilterError("dates look like 2026-11-30 (a day) or 2026-11 (a month)") from exc
    if start is None:
        start = Period.last_months(stop or today, default_months, zone).first
    if stop is None:
        stop = today
    if stop < start:
        raise FilterError("the period ends before it starts")
    if (stop - start).days > 366 * 5:
        raise FilterError("a period is at most five years")
    chosen: Classification | None = None
    if classification:
        try:
            chosen = Classification(classification)
        except ValueError as exc:
            raise FilterError(f"unknown type {classification!r}") from exc
        if chosen not in COUNTED_TYPES:
            raise FilterError(f"{classification!r} is not a type of exploitation")
    platform: int | None = None
    if platform_id not in (None, ""):
        try:
            platform = int(platform_id)
        except ValueError as exc:
            raise FilterError("a platform is given by its number") from exc
    flag = {"": None, None: None, "yes": True, "no": False, "true": True, "false": False}
    if urgent not in flag:
        raise FilterError("urgent is yes or no")
    return Filter(
        Period(start, stop, zone),
        platform_id=platform,
        classification=chosen,
        urgent=flag[urgent],
    )


def _day(text: str, *, end: bool) -> date:
    text = text.strip()
    if len(text) == 7:  # a month
        year, month = int(text[:4]), int(text[5:7])
        if text[4] != "-":
            raise ValueError(text)
        if not end:
            return date(year, month, 1)
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return following - timedelta(days=1)
    return date.fromisoformat(text)


# --- the monthly report by email ---------------------------------------------------------


class MailingStatus(enum.StrEnum):
    """One supervisor's copy of one monthly report email."""

    PENDING = "pending"  # committed, not sent yet (or to be tried again)
    SENT = "sent"
    FAILED = "failed"  # gave up after the retries; a person looks


MAILING_MACHINE = StateMachine(
    MailingStatus,
    {
        MailingStatus.PENDING: frozenset({MailingStatus.SENT, MailingStatus.FAILED}),
        MailingStatus.SENT: frozenset(),
        MailingStatus.FAILED: frozenset({MailingStatus.PENDING}),  # a person retries it
    },
)
