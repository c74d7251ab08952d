"""The triage queue and the case page through HTTP, as each role sees them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import AgeGroup, CaseStatus, Situation
from reclaim.cases.models import Case, CaseNote
from reclaim.security.field_crypto import field_cipher
from tests.support.cases import PDQ_A, attach, bank_verified, flip_bits, make_case, make_user, pdq
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}


def tags(app: FastAPI, tag: AuditTag) -> list[AuditEvent]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def new_case(app: FastAPI, **kwargs: object) -> str:
    with app.state.reclaim.sessions() as session:
        case = make_case(session, **kwargs)  # type: ignore[arg-type]
        session.commit()
        return case.number


def case_row(app: FastAPI, number: str) -> Case:
    with app.state.reclaim.sessions() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        session.expunge(case)
        return case


# --- the queue ---------------------------------------------------------------------


def test_the_queue_orders_by_urgency_and_explains_it(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    login_as(Role.ANALYST)
    calm = new_case(app, created_at=app.state.reclaim.clock() - timedelta(hours=3))
    late = new_case(app, created_at=app.state.reclaim.clock() - timedelta(hours=30))
    threat = new_case(
        app,
        urgent=True,
        situation=Situation.THREAT,
        age=AgeGroup.UNDER_18,
        urls=["https://x.example/1"],
    )
    page = client.get("/console/", headers=EN)
    assert page.status_code == 200
    html = page.text
    assert html.index(threat) < html.index(late) < html.index(calm)
    assert "Threat in progress" in html and "+50" in html
    assert "A person under 18" in html and "+30" in html
    assert "Hours waiting: 3" in html
    assert "Overdue open cases: 1" in html
    assert page.headers["cache-control"] == "no-store"
    assert len(tags(app, AuditTag.QUEUE_VIEWED)) == 1


def test_the_queue_filters(app: FastAPI, client: TestClient, login_as: Login) -> None:
    login_as(Role.SUPERVISOR)
    urgent = new_case(app, urgent=True, situation=Situation.THREAT)
    plain = new_case(app, urls=["https://img.example.org/a.jpg"])
    only_urgent = client.get("/console/?urgent=1").text
    assert urgent in only_urgent and plain not in only_urgent
    on_platform = client.get("/console/?platform=img.example.org").text
    assert plain in on_platform and urgent not in on_platform
    mine = client.get("/console/?assignee=me").text
    assert plain not in mine and urgent not in mine
    # Nonsense filters mean "no filter", never an error.
    assert client.get("/console/?status=bogus&assignee=whoever").status_code == 200


def test_the_queue_is_in_traditional_chinese_by_default(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    login_as(Role.ANALYST)
    new_case(app, urgent=True, situation=Situation.THREAT)
    html = client.get("/console/").text
    assert "案件分級佇列" in html and "威脅正在發生" in html
    assert "Threat in progress" not in html


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.POLICE_LIAISON, Role.ADMIN])
def test_the_queue_is_for_analysts_and_supervisors(
    client: TestClient, login_as: Login, role: Role
) -> None:
    login_as(role)
    assert client.get("/console/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client: TestClient) -> None:
    response = client.get("/console/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")


# --- claiming and assigning ----------------------------------------------------------


def test_claiming_needs_the_csrf_token_and_is_audited(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    analyst = login_as(Role.ANALYST)
    number = new_case(app)
    refused = client.post(f"/console/cases/{number}/claim", data={})
    assert refused.status_code == 403
    assert case_row(app, number).assignee_id is None
    token = csrf_from(client.get("/console/").text)
    claimed = client.post(
        f"/console/cases/{number}/claim",
        data={"csrf_token": token, "next": "/console/?assignee=me"},
        follow_redirects=False,
    )
    assert claimed.status_code == 303
    assert claimed.headers["location"] == "/console/?assignee=me"
    assert case_row(app, number).assignee_id == analyst.id
    (event,) = tags(app, AuditTag.CASE_ASSIGNED)
    assert (event.actor_id, event.details["to"]) == (analyst.id, analyst.id)
    # A "next" that leaves the console is ignored.
    again = client.post(
        f"/console/cases/{number}/claim",
        data={"csrf_token": token, "next": "https://elsewhere.example/"},
        follow_redirects=False,
    )
    assert again.headers["location"].startswith(f"/console/cases/{number}")


def test_supervisors_assign_and_analysts_cannot(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    number = new_case(app)
    with app.state.reclaim.sessions() as session:
        colleague = make_user(session, Role.ANALYST, "Colleague")
        social = make_user(session, Role.SOCIAL_WORKER)
        session.commit()
        colleague_id, social_id = colleague.id, social.id
    login_as(Role.ANALYST)
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    forbidden = client.post(
        f"/console/cases/{number}/assign", data={"csrf_token": token, "user_id": colleague_id}
    )
    assert forbidden.status_code == 403

    login_as(Role.SUPERVISOR)
    page = client.get(f"/console/cases/{number}", headers=EN).text
    assert "Colleague" in page
    token = csrf_from(page)
    done = client.post(
        f"/console/cases/{number}/assign",
        data={"csrf_token": token, "user_id": colleague_id},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert case_row(app, number).assignee_id == colleague_id
    refused = client.post(
        f"/console/cases/{number}/assign", data={"csrf_token": token, "user_id": social_id}
    )
    assert refused.status_code == 409
    assert case_row(app, number).assignee_id == colleague_id


# --- the case page -----------------------------------------------------------------


def test_analysts_see_everything_and_the_view_is_audited(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    analyst = login_as(Role.ANALYST)
    cipher = field_cipher(app.state.reclaim.settings)
    with app.state.reclaim.sessions() as session:
        case = make_case(
            session,
            urls=["https://img.example.org/a.jpg"],
            files=1,
            contact="line: sunny_day",
            cipher=cipher,
            description="He says he will post them tonight.",
        )
        bank_verified(session, pdq())
        attach(session, case.items[1], pdq(flip_bits(PDQ_A, 4)))
        session.commit()
        number = case.number
    html = client.get(f"/console/cases/{number}", headers=EN).text
    assert "line: sunny_day" in html
    assert "He says he will post them tonight." in html
    assert "Matches a verified entry (bank “csam”, distance 4): no need to view." in html
    assert "Fetch for review" in html and "Record decision" in html
    # Reported URLs are text, never links an analyst could open by accident.
    assert 'href="https://img.example.org' not in html
    assert "<script>" not in html and "style=" not in html
    (view,) = tags(app, AuditTag.CASE_VIEWED)
    assert view.actor_id == analyst.id


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.POLICE_LIAISON])
def test_social_workers_and_police_cannot_open_a_case_by_its_number(
    app: FastAPI, client: TestClient, login_as: Login, role: Role
) -> None:
    """They read what a referral to their agency shared (tests/web/console/test_referrals.py)."""
    login_as(role)
    number = new_case(app)
    assert client.get(f"/console/cases/{number}").status_code == 403
    assert tags(app, AuditTag.CASE_VIEWED) == []


def test_admins_see_no_case_content(app: FastAPI, client: TestClient, login_as: Login) -> None:
    login_as(Role.ADMIN)
    number = new_case(app)
    assert client.get(f"/console/cases/{number}").status_code == 403
    assert tags(app, AuditTag.CASE_VIEWED) == []


def test_an_unknown_case_is_404(client: TestClient, login_as: Login) -> None:
    login_as(Role.ANALYST)
    assert client.get("/console/cases/RC-2222-3333").status_code == 404
    assert client.get("/console/cases/nonsense").status_code == 404


def test_status_changes_follow_the_state_machine(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    login_as(Role.ANALYST)
    number = new_case(app)
    html = client.get(f"/console/cases/{number}", headers=EN).text
    token = csrf_from(html)
    # Only the moves the state machine allows are offered.
    assert 'value="in_review"' in html and 'name="status" required>\n' in html
    illegal = client.post(
        f"/console/cases/{number}/status",
        data={"csrf_token": token, "status": "resolved"},
        headers=EN,
    )
    assert illegal.status_code == 409
    assert "That status change is not allowed" in illegal.text
    assert case_row(app, number).status is CaseStatus.NEW
    assert tags(app, AuditTag.CASE_STATUS_CHANGED) == []

    moved = client.post(
        f"/console/cases/{number}/status",
        data={"csrf_token": token, "status": "in_review"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert case_row(app, number).status is CaseStatus.IN_REVIEW
    page = client.get(moved.headers["location"], headers=EN).text
    assert "The case status was changed." in page
    assert "Status changed from “New case” to “In review”" in page


def test_notes_are_added_encrypted_and_shown(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    login_as(Role.ANALYST)
    number = new_case(app)
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    empty = client.post(f"/console/cases/{number}/notes", data={"csrf_token": token, "body": " "})
    assert empty.status_code == 400
    added = client.post(
        f"/console/cases/{number}/notes",
        data={"csrf_token": token, "body": "Called the 113 line <b>together</b>."},
        follow_redirects=False,
    )
    assert added.status_code == 303
    with app.state.reclaim.sessions() as session:
        stored = session.scalar(select(CaseNote.body))
    assert stored is not None and "113" not in stored
    html = client.get(f"/console/cases/{number}", headers=EN).text
    assert "Called the 113 line &lt;b&gt;together&lt;/b&gt;." in html
    assert len(tags(app, AuditTag.CASE_NOTE_ADDED)) == 1


def test_an_urgent_report_shows_who_is_threatening_decrypted(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    from reclaim.intake.submission import submit_report
    from tests.support.intake import a_policy, a_report

    login_as(Role.ANALYST)
    with app.state.reclaim.sessions() as session:
        receipt = submit_report(
            session,
            a_report(
                situation=Situation.THREAT,
                urls=(),
                files=(),
                description="He says tonight.",
                threat_account="@not.a.friend_2009",
                threat_platform="Instagram",
            ),
            policy=a_policy(),
            cipher=field_cipher(app.state.reclaim.settings),
        )
        session.commit()
    html = client.get(f"/console/cases/{receipt.case_number}", headers=EN).text
    assert "@not.a.friend_2009" in html and "(Instagram)" in html
    assert "He says tonight." in html and "Who is threatening" in html
