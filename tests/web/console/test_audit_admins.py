"""Admins see no case content in the audit trail: case events show their case reference,
with URLs, accounts and every other detail withheld (on the page and in exports)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag, TargetKind
from tests.support.cases import make_case

Login = Callable[..., User]
SECRET_URL = "https://example.org/profile/offender_account_42"


def _case_event(app: FastAPI) -> str:
    with app.state.reclaim.sessions() as session:
        case = make_case(session, urls=[SECRET_URL])
        audit.record(
            session,
            AuditTag.ITEM_ANNOTATED,
            actor=audit.SYSTEM,
            target=(TargetKind.ITEM, case.items[0].id),
            details={"url": SECRET_URL, "posted_by": "offender_account_42"},
        )
        session.commit()
        return case.number


def test_admins_see_the_case_reference_not_its_content(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = _case_event(app)
    login_as(Role.ADMIN)
    html = client.get("/console/audit").text
    assert number in html
    assert "offender_account_42" not in html
    assert "case content" in html
    for fmt in ("csv", "json"):
        exported = client.get(f"/console/audit/export.{fmt}").text
        assert number in exported and "offender_account_42" not in exported
    # Account events stay readable: they are what admins look after.
    assert "account:user:created" in html


def test_supervisors_read_the_details(app: FastAPI, client: TestClient, login_as: Login) -> None:
    _case_event(app)
    login_as(Role.SUPERVISOR)
    assert "offender_account_42" in client.get("/console/audit").text
