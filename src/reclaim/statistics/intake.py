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
    type_rows = session.execute(
        select(case_month, Item.classification, func.count(func.distinct(Case.id)))
        .join(cases, cases.c.id == Case.id)
        .join(Item, and_(Item.case_id == Case.id, Item.classification.in_(COUNTED_TYPES)))
        .group_by(case_month, Item.classification)
    ).all()
    type_by_month: dict[str, dict[str, int]] = {}
    typed_cases: dict[str, int] = {}
    for month, classification, count in type_rows:
        type_by_month.setdefault(month, {})[str(classification)] = int(count)
        # A case was created in one month: its distinct count per month adds up.
        typed_cases[str(classification)] = typed_cases.get(str(classification), 0) + int(count)
    by_type = {
        value: (int(typed_reports.get(value, 0)), typed_cases.get(value, 0)) for value in counted
    }

    # Every report once, with its channel (from its items, grouped once): one GROUP BY
    # (month, age, reporter, channel) gives the four report breakdowns; the rows summed
    # here are groups (at most months x 3 x 4 x 3), not reports.
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
    report_month = month_of(session, Report.created_at, offset)
    groups = session.execute(
        select(report_month, Report.age_group, Report.reporter_role, channel, func.count())
        .select_from(per_report)
        .join(Report, Report.id == per_report.c.id)
        .group_by(report_month, Report.age_group, Report.reporter_role, channel)
    ).all()
    reports_by_month: dict[str, int] = {}
    by_age: dict[str, int] = {}
    by_reporter: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for month, age, role, way, count in groups:
        for found, key in (
            (reports_by_month, str(month)),
            (by_age, str(age)),
            (by_reporter, str(role)),
            (by_channel, str(way)),
        ):
            found[key] = found.get(key, 0) + int(count)
    return IntakeFigures(
        reports=sum(reports_by_month.values()),
        cases=sum(cases_by_month.values()),
        urgent_cases=urgent_cases,
        reports_by_month=reports_by_month,
        cases_by_month=cases_by_month,
        by_type=by_type,
        type_by_month=type_by_month,
        by_age=by_age,
        by_reporter=by_reporter,
        by_channel=by_channel,
    )
