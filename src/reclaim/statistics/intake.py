"""Intake figures: reports and cases by month, type of exploitation, the victim's age
band, who reported, the channel, and the urgent share — each one GROUP BY query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import Session

from reclaim.cases.domain import ItemKind
from reclaim.cases.models import Case, Item, Report
from reclaim.statistics.domain import COUNTED_TYPES, Channel, Filter
from reclaim.statistics.sql import month_of


@dataclass(frozen=True, slots=True)
class IntakeFigures:
    reports: int
    cases: int
    urgent_cases: int
    reports_by_month: dict[str, int]
    cases_by_month: dict[str, int]
    # classification value -> (reports, cases)
    by_type: dict[str, tuple[int, int]]
    # month -> classification value -> cases
    type_by_month: dict[str, dict[str, int]]
    by_age: dict[str, int]
    by_reporter: dict[str, int]
    by_channel: dict[str, int]

    @property
    def urgent_share(self) -> float | None:
        return self.urgent_cases / self.cases if self.cases else None


def _reports(where: Filter) -> Select[Any]:
    period = where.period
    query = select(Report.id).where(
        Report.created_at >= period.start, Report.created_at < period.end
    )
    if where.urgent is not None:
        query = query.where(
            Report.case_id.in_(select(Case.id).where(Case.urgent.is_(where.urgent)))
        )
    if where.classification is not None:
        query = query.where(
            exists().where(Item.report_id == Report.id, Item.classification == where.classification)
        )
    return query


def _cases(where: Filter) -> Select[Any]:
    period = where.period
    query = select(Case.id).where(Case.created_at >= period.start, Case.created_at < period.end)
    if where.urgent is not None:
        query = query.where(Case.urgent.is_(where.urgent))
    if where.classification is not None:
        query = query.where(
            exists().where(Item.case_id == Case.id, Item.classification == where.classification)
        )
    return query


def intake_figures(session: Session, where: Filter) -> IntakeFigures:
    offset = where.period.offset_minutes
    reports = _reports(where).subquery()
    cases = _cases(where).subquery()

    report_month = month_of(session, Report.created_at, offset)
    reports_by_month = dict(
        session.execute(
            select(report_month, func.count())
            .join(reports, reports.c.id == Report.id)
            .group_by(report_month)
        ).all()
    )
    case_month = month_of(session, Case.created_at, offset)
    case_rows = session.execute(
        select(case_month, func.count(), func.sum(case((Case.urgent.is_(True), 1), else_=0)))
        .join(cases, cases.c.id == Case.id)
        .group_by(case_month)
    ).all()
    cases_by_month = {month: int(count) for month, count, _ in case_rows}
    urgent_cases = sum(int(urgent or 0) for _, _, urgent in case_rows)

    counted = [c.value for c in COUNTED_TYPES]
    typed_reports: dict[Any, int] = dict(
        session.execute(
            select(Item.classification, func.count(func.distinct(Item.report_id)))
            .join(reports, reports.c.id == Item.report_id)
            .where(Item.classification.in_(COUNTED_TYPES))
            .group_by(Item.classification)
        ).all()
    )
    typed_cases: dict[Any, int] = dict(
        session.execute(
            select(Item.classification, func.count(func.distinct(Item.case_id)))
            .join(cases, cases.c.id == Item.case_id)
            .where(Item.classification.in_(COUNTED_TYPES))
            .group_by(Item.classification)
        ).all()
    )
    by_type = {
        value: (int(typed_reports.get(value, 0)), int(typed_cases.get(value, 0)))
        for value in counted
    }
    type_rows = session.execute(
        select(case_month, Item.classification, func.count(func.distinct(Case.id)))
        .join(cases, cases.c.id == Case.id)
        .join(Item, and_(Item.case_id == Case.id, Item.classification.in_(COUNTED_TYPES)))
        .group_by(case_month, Item.classification)
    ).all()
    type_by_month: dict[str, dict[str, int]] = {}
    for month, classification, count in type_rows:
        type_by_month.setdefault(month, {})[str(classification)] = int(count)

    def report_breakdown(column: Any) -> dict[str, int]:
        rows = session.execute(
            select(column, func.count()).join(reports, reports.c.id == Report.id).group_by(column)
        ).all()
        return {str(value): int(count) for value, count in rows}

    # The channel of each report: from its items, grouped once (no subquery per row).
    per_report = (
        select(
            Report.id.label("id"),
            func.max(case((Item.kind == ItemKind.URL, 1), else_=0)).label("urls"),
            func.max(case((Item.kind == ItemKind.FILE, 1), else_=0)).label("files"),
        )
        .join(reports, reports.c.id == Report.id)
        .outerjoin(Item, Item.report_id == Report.id)
        .group_by(Report.id)
        .subquery()
    )
    channel = case(
        (per_report.c.urls > 0, Channel.URL.value),
        (per_report.c.files > 0, Channel.HASH_ONLY.value),
        else_=Channel.EMPTY.value,
    )
    by_channel = {
        str(value): int(count)
        for value, count in session.execute(
            select(channel.label("channel"), func.count()).group_by(channel)
        ).all()
    }
    return IntakeFigures(
        reports=sum(int(v) for v in reports_by_month.values()),
        cases=sum(cases_by_month.values()),
        urgent_cases=urgent_cases,
        reports_by_month={str(k): int(v) for k, v in reports_by_month.items()},
        cases_by_month=cases_by_month,
        by_type=by_type,
        type_by_month=type_by_month,
        by_age=report_breakdown(Report.age_group),
        by_reporter=report_breakdown(Report.reporter_role),
        by_channel=by_channel,
    )
