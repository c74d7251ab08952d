"""Demo data for a development machine: staff accounts, banks, a few cases.

Everything here is synthetic: example.* URLs and made-up hashes, never real content.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from reclaim.domain.accounts import Role
from reclaim.domain.audit import AuditTag
from reclaim.domain.case_numbers import new_case_number, new_pin
from reclaim.domain.cases import (
    AgeGroup,
    CaseStatus,
    ItemKind,
    ReporterRole,
    Situation,
)
from reclaim.services import audit
from reclaim.services.accounts import create_user, find_user, hash_secret
from reclaim.services.banking import ensure_builtin_banks
from reclaim.storage.models import Case, Item, Report

DEMO_PASSWORD = "reclaim-demo-password"  # noqa: S105 - development mode only, printed
DEMO_STAFF = (
    ("admin@demo.reclaim.test", Role.ADMIN, "Demo Admin"),
    ("analyst@demo.reclaim.test", Role.ANALYST, "Demo Analyst"),
    ("supervisor@demo.reclaim.test", Role.SUPERVISOR, "Demo Supervisor"),
)


@dataclass(frozen=True, slots=True)
class DemoCase:
    number: str
    pin: str


@dataclass(frozen=True, slots=True)
class DemoData:
    staff: tuple[tuple[str, Role], ...]
    password: str
    cases: tuple[DemoCase, ...]


def load_demo(session: Session) -> DemoData:
    """Idempotent for accounts and banks; adds two fresh demo cases each time."""
    ensure_builtin_banks(session)
    for email, role, name in DEMO_STAFF:
        if find_user(session, email) is None:
            create_user(
                session,
                email=email,
                role=role,
                display_name=name,
                password=DEMO_PASSWORD,
                actor=audit.SYSTEM,
            )
    cases = (
        _demo_case(
            session,
            situation=Situation.THREAT,
            age=AgeGroup.UNDER_18,
            urls=(),
            description="Someone I met in a game says he will post my photos.",
        ),
        _demo_case(
            session,
            situation=Situation.ONLINE,
            age=AgeGroup.UNSURE,
            urls=("https://forum.example.net/t/1234", "https://img.example.org/a/5678.jpg"),
            description="My classmate's photos were posted on a forum.",
        ),
    )
    audit.record(session, AuditTag.DEMO_LOADED, actor=audit.SYSTEM)
    return DemoData(
        staff=tuple((email, role) for email, role, _ in DEMO_STAFF),
        password=DEMO_PASSWORD,
        cases=cases,
    )


def _demo_case(
    session: Session,
    *,
    situation: Situation,
    age: AgeGroup,
    urls: tuple[str, ...],
    description: str,
) -> DemoCase:
    number, pin = new_case_number(), new_pin()
    case = Case(
        number=number,
        pin_hash=hash_secret(pin),
        status=CaseStatus.NEW,
        urgent=situation.is_threat,
    )
    session.add(case)
    session.flush()
    report = Report(
        case_id=case.id,
        idempotency_key=secrets.token_hex(16),
        reporter_role=ReporterRole.SELF,
        age_group=age,
        situation=situation,
        description=description,
        language="en",
    )
    session.add(report)
    session.flush()
    for url in urls:
        session.add(Item(case_id=case.id, report_id=report.id, kind=ItemKind.URL, url=url))
    session.flush()
    return DemoCase(number, pin)
