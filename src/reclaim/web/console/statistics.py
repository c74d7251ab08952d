"""The supervisors' statistics page: figures for a period and filter, with charts (each
beside a table of the same figures), and the figures as CSV or JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from reclaim.cases.domain import Classification
from reclaim.documents.pdf import PdfUnavailableError
from reclaim.domain.times import local
from reclaim.platforms.models import Platform
from reclaim.statistics import exporting, presenting, reports
from reclaim.statistics.domain import (
    COUNTED_TYPES,
    Filter,
    FilterError,
    Period,
    parse_filter,
    previous_month,
)
from reclaim.statistics.figures import compute
from reclaim.statistics.reports import ReportKind
from reclaim.web.common import current_time, wording_of
from reclaim.web.common import render as page
from reclaim.web.console.auth import Staff
from reclaim.web.console.permissions import permitted
from reclaim.web.console.responses import download, settings_of

router = APIRouter()


def _filter(request: Request) -> Filter:
    params = request.query_params
    zone = settings_of(request).zone
    try:
        return parse_filter(
            first=params.get("first"),
            last=params.get("last"),
            zone=zone,
            today=local(current_time(request), zone).date(),
            platform_id=params.get("platform"),
            classification=params.get("type"),
            urgent=params.get("urgent"),
        )
    except FilterError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get("/statistics", name="console.statistics")
def statistics_page(
    request: Request, staff: Annotated[Staff, permitted("console.statistics")]
) -> Response:
    where = _filter(request)
    figures = compute(staff.db, where, current_time(request))
    wording = wording_of(request)
    query = request.url.query
    context: dict[str, Any] = {
        "active": "statistics",
        "where": where,
        "figures": figures,
        "tables": presenting.shown_tables(figures, wording),
        "charts": presenting.charts(figures, wording),
        "platforms": staff.db.execute(
            select(Platform.id, Platform.name).order_by(Platform.name)
        ).all(),
        "types": COUNTED_TYPES,
        "Classification": Classification,
        "query": query,
    }
    return page(request, "console/statistics.html", context)


EXPORT_FORMATS = ("csv", "json")


@router.get("/statistics/figures.{fmt}", name="console.statistics.export")
def statistics_export(
    request: Request, fmt: str, staff: Annotated[Staff, permitted("console.statistics.export")]
) -> Response:
    if fmt not in EXPORT_FORMATS:
        raise HTTPException(404, "formats: csv, json")
    where = _filter(request)
    figures = compute(staff.db, where, current_time(request))
    body = exporting.csv_bytes(figures) if fmt == "csv" else exporting.json_bytes(figures)
    name = f"reclaim-statistics-{where.period.first:%Y%m%d}-{where.period.last:%Y%m%d}.{fmt}"
    return download(body, name)


REPORT_FORMATS = ("html", "pdf", "csv", "json")


@router.get("/statistics/{kind}.{fmt}", name="console.statistics.report")
def statistics_report(
    request: Request,
    kind: str,
    fmt: str,
    staff: Annotated[Staff, permitted("console.statistics.report")],
) -> Response:
    """The monthly report (``?month=2026-11``) or the annual one (``?year=2026``), in the
    language the link asks for (``?lang=en``)."""
    if kind not in ReportKind.__members__.values() or fmt not in REPORT_FORMATS:
        raise HTTPException(404, "reports: monthly or annual; formats: html, pdf, csv, json")
    zone = settings_of(request).zone
    now = current_time(request)
    today = local(now, zone).date()
    params = request.query_params
    try:
        if kind == ReportKind.MONTHLY:
            year, month = previous_month(today)
            if params.get("month"):
                year, month = (int(part) for part in params["month"].split("-"))
            period = Period.month(year, month, zone)
        else:
            period = Period.year(int(params.get("year") or today.year - 1), zone)
    except ValueError as exc:
        raise HTTPException(400, "month looks like 2026-11, year like 2026") from exc
    wording = wording_of(request)
    report = reports.build(
        staff.db, ReportKind(kind), period, hotline=settings_of(request).hotline_name, now=now
    )
    try:
        body = reports.render(report, fmt, wording)
    except PdfUnavailableError as exc:
        raise HTTPException(503, str(exc)) from exc
    name = reports.filename(report, fmt, wording)
    return download(body, name, language=wording.language)
