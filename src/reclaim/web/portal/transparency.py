"""The public transparency page: aggregates only, small cells suppressed, fixed periods
(see ``reclaim.statistics.public`` for what keeps a child from being singled out)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from reclaim.domain.times import local
from reclaim.statistics import labels
from reclaim.statistics.charts import Chart, bars
from reclaim.statistics.presenting import statistics_wording
from reclaim.statistics.public import PublicFigures, public_figures, public_period
from reclaim.web.common import current_time, render, state_of, wording_of

router = APIRouter()


@router.get("/transparency", include_in_schema=False, name="portal.transparency")
def transparency(request: Request) -> Response:
    state = state_of(request)
    zone = state.settings.zone
    now = current_time(request)
    today = local(now, zone).date()
    year_text = request.query_params.get("year")
    try:
        period = public_period(today, zone, int(year_text) if year_text else None)
    except ValueError as exc:
        raise HTTPException(404, "figures are published for past calendar years") from exc
    with state.sessions() as session:
        figures = public_figures(
            session, period, threshold=state.settings.statistics_small_cell, now=now
        )
    words = statistics_wording(wording_of(request))
    context: dict[str, Any] = {
        "figures": figures,
        "charts": _charts(figures, words),
        "years": list(range(today.year - 1, today.year - 4, -1)),
        "chosen_year": period.first.year if year_text else None,
        "labels": labels,
        "words": words,
    }
    return render(request, "portal/transparency.html", context)


def _charts(figures: PublicFigures, words: Any) -> list[Chart]:
    threshold = figures.threshold
    months = [m for m, _ in figures.by_month]
    values = [c if isinstance(c, int) else 0 for _, c in figures.by_month]
    shown = [(p.name or words.say(labels.OTHER_PLATFORMS), p) for p in figures.platforms]
    rated = [(name, p) for name, p in shown if p.within_deadline_share is not None]
    share_heading = words.say(labels.COLUMNS["within_deadline_share"])
    return [
        Chart(
            key="reports_by_month",
            title=words.say(labels.PUBLIC_MONTHS),
            description=words.say(labels.PUBLIC_MONTHS_CHART, threshold=threshold),
            svg=bars(months, [(words.say(labels.COLUMNS["reports"]), values)]),
            header=(words.say(labels.COLUMNS["month"]), words.say(labels.COLUMNS["reports"])),
            rows=tuple((m, str(c)) for m, c in figures.by_month),
        ),
        Chart(
            key="compliance",
            title=words.say(labels.CHART_COMPLIANCE_TITLE),
            description=words.say(labels.CHART_COMPLIANCE),
            svg=bars(
                [name for name, _ in rated],
                [
                    (
                        share_heading,
                        [round((p.within_deadline_share or 0) * 100, 1) for _, p in rated],
                    )
                ],
                horizontal=True,
                percent=True,
            ),
            header=(words.say(labels.COLUMNS["platform"]), share_heading),
            rows=tuple((name, f"{(p.within_deadline_share or 0) * 100:.0f}%") for name, p in rated),
        ),
    ]
