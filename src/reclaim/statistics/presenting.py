"""The figures for people: tables with headings and labels in the reader's language, and
the charts (each with its table of the same figures)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from reclaim.documents.words import Wording
from reclaim.statistics import labels
from reclaim.statistics.charts import Chart, bars
from reclaim.statistics.domain import COUNTED_TYPES, Table
from reclaim.statistics.figures import Figures, tables
from reclaim.statistics.removal import BAND_NAMES


@dataclass(frozen=True, slots=True)
class ShownTable:
    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def statistics_wording(wording: Wording) -> Wording:
    """The same language and clock, with the statistics' labels."""
    return dataclasses.replace(wording, labels=labels.LABELS)


def cell_text(column: str, cell: object, wording: Wording) -> str:  # noqa: PLR0911
    if cell is None or (column == "category" and cell == ""):
        return "—"
    if isinstance(cell, enum.Enum):
        return wording.label(cell)
    if column == "platform" and cell == "":
        return wording.say(labels.ALL_PLATFORMS)
    if column == "bank" and cell == "":
        return wording.say(labels.ALL_BANKS)
    if column in ("measure",):
        return wording.say(labels.MEASURE[str(cell)])
    if column == "urgency":
        return wording.say(labels.URGENCY[str(cell)])
    if column == "agency_outcome":
        return wording.say(labels.AGENCY_OUTCOME[str(cell)]) if cell else "—"
    if column.endswith("_share") and isinstance(cell, float):
        return f"{cell * 100:.1f}%"
    if isinstance(cell, float):
        return f"{cell:.1f}"
    return str(cell)


def shown(table: Table, wording: Wording) -> ShownTable:
    return ShownTable(
        key=table.key,
        title=wording.say(labels.TITLES[table.key]),
        header=tuple(wording.say(labels.COLUMNS[c]) for c in table.columns),
        rows=tuple(
            tuple(cell_text(c, cell, wording) for c, cell in zip(table.columns, row, strict=True))
            for row in table.rows
        ),
    )


def shown_tables(figures: Figures, wording: Wording) -> list[ShownTable]:
    words = statistics_wording(wording)
    return [shown(t, words) for t in tables(figures)]


def charts(figures: Figures, wording: Wording) -> list[Chart]:
    """Monthly trend by type, time to removal per platform, deadline compliance."""
    words = statistics_wording(wording)
    months = figures.where.period.months()
    by_month = figures.intake.type_by_month
    type_names = [words.label(c) for c in COUNTED_TYPES]
    trend_series = [
        (name, [by_month.get(m, {}).get(c.value, 0) for m in months])
        for name, c in zip(type_names, COUNTED_TYPES, strict=True)
    ]
    trend = Chart(
        key="trend",
        title=words.say(labels.TITLES["cases_by_type_and_month"]),
        description=words.say(labels.CHART_TREND, first=months[0], last=months[-1]),
        svg=bars(months, trend_series),
        header=(words.say(labels.COLUMNS["month"]), *type_names),
        rows=tuple((m, *(str(s[1][i]) for s in trend_series)) for i, m in enumerate(months)),
    )
    platforms = figures.platforms
    names = [p.platform for p in platforms]
    band_names = [words.say(labels.BANDS[b]) for b in BAND_NAMES]
    band_series = [(band_names[i], [p.bands[i] for p in platforms]) for i in range(len(BAND_NAMES))]
    removal = Chart(
        key="time_to_removal",
        title=words.say(labels.TITLES["removal_time_bands"]),
        description=words.say(labels.CHART_REMOVAL),
        svg=bars(names, band_series, horizontal=True),
        header=(words.say(labels.COLUMNS["platform"]), *band_names),
        rows=tuple((p.platform, *(str(b) for b in p.bands)) for p in platforms),
    )
    shares = [round((p.compliance or 0) * 100, 1) for p in platforms]
    compliance = Chart(
        key="compliance",
        title=words.say(labels.CHART_COMPLIANCE_TITLE),
        description=words.say(labels.CHART_COMPLIANCE),
        svg=bars(
            names,
            [(words.say(labels.COLUMNS["within_deadline_share"]), shares)],
            horizontal=True,
            percent=True,
        ),
        header=(
            words.say(labels.COLUMNS["platform"]),
            words.say(labels.COLUMNS["within_deadline"]),
            words.say(labels.COLUMNS["removed_with_deadline"]),
            words.say(labels.COLUMNS["within_deadline_share"]),
        ),
        rows=tuple(
            (
                p.platform,
                str(p.within_deadline),
                str(p.removed_with_deadline),
                cell_text("within_deadline_share", p.compliance, words),
            )
            for p in platforms
        ),
    )
    return [trend, removal, compliance]
