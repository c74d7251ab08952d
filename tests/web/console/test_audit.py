"""The audit trail in the console: view, filter, page, export; all of it audited."""

from __future__ import annotations

import csv
import io
import itertools
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import ItemKind, new_case_number
from reclaim.cases.models import Case, Item
from reclaim.security.secret_hashes import hash_secret
from tests.support.accounts import Person, enrolled, log_in


@pytest.fixture(autouse=True)
def english(client: TestClient) -> None:
    client.headers["accept-language"] = "en"


@pytest.fixture
def supervisor(app: FastAPI, client: TestClient) -> Person:
    person = enrolled(app, Role.SUPERVISOR)
    assert log_in(client, person).status_code == 303
    return person


def cases_with_events(app: FastAPI) -> tuple[str, int, int]:
    """A case with one item, and an event about each (plus one about another case)."""
    with app.state.reclaim.sessions() as session:
        cases = []
        for _ in range(2):
            case = Case(number=new_case_number(), pin_hash=hash_secret("12345678"))
            session.add(case)
            session.flush()
            item = Item(case_id=case.id, kind=ItemKind.URL, url="https://example.org/a")
            session.add(item)
            session.flush()
            cases.append((case.number, case.id, item.id))
        for number, case_id, item_id in cases:
            audit.record(
                session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM, target=(TargetKind.CASE, case_id)
            )
            audit.record(
                session,
                AuditTag.ITEM_REVEALED,
                actor=audit.SYSTEM,
                target=(TargetKind.ITEM, item_id),
                details={"case": number},
            )
        session.commit()
    return cases[0]


def tags_of(app: FastAPI, tag: AuditTag) -> list[AuditEvent]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def test_supervisors_see_the_trail_and_viewing_is_audited(
    app: FastAPI, client: TestClient, supervisor: Person
) -> None:
    page = client.get("/console/audit")
    assert page.status_code == 200
    assert AuditTag.LOGIN_SUCCEEDED.value in page.text
    assert supervisor.email in page.text
    viewed = tags_of(app, AuditTag.AUDIT_VIEWED)
    assert len(viewed) == 1
    assert viewed[0].actor_id == supervisor.id
    assert viewed[0].details == {"page": 1}


def test_filtering_by_case_number(app: FastAPI, client: TestClient, supervisor: Person) -> None:
    number, _, item_id = cases_with_events(app)
    page = client.get("/console/audit", params={"case": number.lower().replace("-", " ")})
    assert page.status_code == 200
    rows = page.text.split("<tbody>")[1]
    assert rows.count("<tr>") == 2
    assert rows.count(AuditTag.CASE_VIEWED.value) == 1
    assert rows.count(AuditTag.ITEM_REVEALED.value) == 1
    assert f"item {item_id}" in rows
    assert f'href="/console/cases/{number}"' in page.text
    assert tags_of(app, AuditTag.AUDIT_VIEWED)[-1].details == {
        "case": number.lower().replace("-", " "),
        "page": 1,
    }


def test_filtering_by_user(app: FastAPI, client: TestClient, supervisor: Person) -> None:
    other = enrolled(app, Role.ANALYST)
    with TestClient(app, base_url="http://127.0.0.1") as browser:
        log_in(browser, other)
    page = client.get("/console/audit", params={"user": other.email})
    rows = page.text.split("<tbody>")[1]
    assert rows.count("<tr>") == 2  # created; logged in
    assert AuditTag.USER_CREATED.value in rows
    assert AuditTag.LOGIN_SUCCEEDED.value in rows
    assert supervisor.email not in rows


def test_unknown_filters_match_nothing(client: TestClient, supervisor: Person) -> None:
    page = client.get("/console/audit", params={"case": "RC-2222-3333"})
    assert "There is no case with that number." in page.text
    assert "Nothing matches." in page.text
    page = client.get("/console/audit", params={"user": "ghost@staff.reclaim.test"})
    assert "There is no staff account with that email address." in page.text


def test_paging(app: FastAPI, client: TestClient, supervisor: Person) -> None:
    with app.state.reclaim.sessions() as session:
        for _ in range(60):
            audit.record(session, AuditTag.QUEUE_VIEWED, actor=audit.SYSTEM)
        session.commit()
    first = client.get("/console/audit", params={"tag": AuditTag.QUEUE_VIEWED.value})
    assert first.text.count(AuditTag.QUEUE_VIEWED.value + "</code>") == 50
    assert "Page 1 of 2" in first.text
    second = client.get("/console/audit", params={"tag": AuditTag.QUEUE_VIEWED.value, "page": 2})
    assert second.text.count(AuditTag.QUEUE_VIEWED.value + "</code>") == 10
    assert 'rel="prev"' in second.text


def test_csv_export(app: FastAPI, client: TestClient, supervisor: Person) -> None:
    with app.state.reclaim.sessions() as session:
        audit.record(
            session,
            AuditTag.CASE_NOTE_ADDED,
            actor=audit.SYSTEM,
            details={"note": "=HYPERLINK(1)"},
        )
        session.commit()
    response = client.get("/console/audit/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    with app.state.reclaim.sessions() as session:
        stored = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    exported = tags_of(app, AuditTag.AUDIT_EXPORTED)
    assert len(exported) == 1
    # The trail as it stood when the export began: all but the export's own record.
    assert stored[-1].id == exported[0].id
    stored = stored[:-1]
    assert [int(r["id"]) for r in rows] == [e.id for e in stored]
    assert exported[0].details["rows"] == len(rows)
    assert all(r["row_hash"] == e.row_hash for r, e in zip(rows, stored, strict=True))
    # A spreadsheet would not run the note as a formula.
    note = next(r for r in rows if r["tag"] == AuditTag.CASE_NOTE_ADDED.value)
    assert not note["details"].startswith("=")


def test_json_export_with_a_filter(app: FastAPI, client: TestClient, supervisor: Person) -> None:
    number, case_id, _ = cases_with_events(app)
    response = client.get("/console/audit/export.json", params={"case": number})
    assert response.status_code == 200
    rows = json.loads(response.text)
    assert [r["tag"] for r in rows] == [AuditTag.CASE_VIEWED.value, AuditTag.ITEM_REVEALED.value]
    assert rows[0]["target"] == number and rows[0]["target_id"] == case_id
    assert rows[1]["details"] == {"case": number}
    recorded = tags_of(app, AuditTag.AUDIT_EXPORTED)[-1]
    assert recorded.actor_id == supervisor.id
    assert recorded.details == {
        "case": number,
        "format": "json",
        "rows": 2,
        "up_to": recorded.id - 1,  # the trail as it stood when the export began
    }


def test_the_exported_chain_links_up(app: FastAPI, client: TestClient, supervisor: Person) -> None:
    cases_with_events(app)
    rows = json.loads(client.get("/console/audit/export.json").text)
    assert len(rows) > 1  # else the loop below checks nothing
    assert rows[0]["prev_hash"] == "0" * 64
    for previous, row in itertools.pairwise(rows):
        assert row["prev_hash"] == previous["row_hash"]
