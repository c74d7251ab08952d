"""The monthly report for the authority and the annual transparency report: zh_TW or
en, HTML and PDF from one template (``templates/statistics_report.html``, through
``reclaim.documents``: WeasyPrint with Noto Sans CJK TC embedded), with the charts and a
table beside each; CSV (with a byte-order mark) and JSON carry the same figures in the
documented schema.

The monthly report covers one calendar month on the operator's clock; the annual report
one calendar year.  Overdue counts are as of when the report is made.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from reclaim.documents import templates
from reclaim.documents.pdf import html_to_pdf
from reclaim.documents.words import Wording, _
from reclaim.statistics import exporting, presenting
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.figures import Figures, compute

_templates = templates.environment(Path(__file__).parent / "templates")


class ReportKind(enum.StrEnum):
    MONTHLY = "monthly"
    ANNUAL = "annual"


TITLES = {
    ReportKind.MONTHLY: _("%(hotline)s: monthly statistics for %(period)s"),
    ReportKind.ANNUAL: _("%(hotline)s: transparency report %(period)s"),
}
FORMATS = ("html", "pdf", "csv", "json")


@dataclass(frozen=True, slots=True)
class Report:
    kind: ReportKind
    hotline: str
    period_name: str
    figures: Figures


def build(
    session: Session, kind: ReportKind, period: Period, *, hotline: str, now: datetime
) -> Report:
    name = f"{period.first:%Y-%m}" if kind is ReportKind.MONTHLY else f"{period.first:%Y}"
    return Report(kind, hotline, name, compute(session, Filter(period), now))


def to_html(report: Report, wording: Wording) -> str:
    words = presenting.statistics_wording(wording)
    return templates.render(
        _templates,
        "statistics_report.html",
        words,
        report=report,
        title=words.say(TITLES[report.kind], hotline=report.hotline, period=report.period_name),
        charts=presenting.charts(report.figures, words),
        tables=presenting.shown_tables(report.figures, words),
    )


def render(report: Report, fmt: str, wording: Wording) -> str | bytes:
    if fmt == "html":
        return to_html(report, wording)
    if fmt == "pdf":
        return html_to_pdf(to_html(report, wording))
    if fmt == "csv":
        return exporting.csv_bytes(report.figures)
    if fmt == "json":
        return exporting.json_bytes(report.figures)
    raise ValueError(f"formats: {', '.join(FORMATS)}")


def filename(report: Report, fmt: str, wording: Wording) -> str:
    return f"reclaim-{report.kind.value}-{report.period_name}-{wording.language.value}.{fmt}"
