"""Identifiers, linked cases, the cluster view and search, through HTTP, per role."""

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
from reclaim.cases.domain import Situation
from reclaim.linkage import identifiers
from reclaim.linkage.domain import IdentifierKind
from reclaim.security.field_crypto import field_cipher
from tests.support.cases import PDQ_A, attach, flip_bits, make_case, make_user, md5, pdq
from tests.support.linkage import linkage_keys
from tests.web.conftest import csrf_from

Login = Callable[..., User]
EN = {"accept-language": "en"}


def events(app: FastAPI, tag: AuditTag) -> list[AuditEvent]:
    with app.state.reclaim.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag.value)))


def named(app: FastAPI, handle: str, **kwargs: object) -> str:
    """A case whose analyst named ``handle``; its number."""
    state = app.state.reclaim
    with state.sessions() as session:
        case = make_case(session, **kwargs)  # type: ignore[arg-type]
        analyst = make_user(session)
        identifiers.add_by_analyst(
            session,
            case,
            IdentifierKind.HANDLE,
            handle,
            actor_id=analyst.id,
            keys=linkage_keys(state.settings),
        )
        session.commit()
        return case.number


def test_the_case_page_shows_identifiers_and_linked_cases_with_reasons(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    cipher = field_cipher(app.state.reclaim.settings)
    first = named(
        app,
        "@user_alpha",
        contact="first-reporter@example.com",
        cipher=cipher,
        description="Reporter one's own words",
    )
    second = named(
        app,
        "ｕｓｅｒ＿ａｌｐｈａ",
        contact="second-reporter@example.com",
        cipher=cipher,
        description="Reporter two's own words",
    )
    login_as(Role.ANALYST)
    html = client.get(f"/console/cases/{first}", headers=EN).text
    assert "Offender identifiers" in html and "user_alpha" in html
    assert "named in 1 other cases" in html
    assert f'data-linked="{second}"' in html
    assert "Same offender identifier: Account handle user_alpha" in html
    # privacy: nothing of the other reporter reaches this case's page
    assert "second-reporter@example.com" not in html and "Reporter two" not in html
    assert "See the whole cluster" not in html  # analysts: no cluster view


def test_analysts_add_identifiers_and_bad_ones_are_explained(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    existing = named(app, "user_alpha")
    with app.state.reclaim.sessions() as session:
        number = make_case(session).number
        session.commit()
    login_as(Role.ANALYST)
    token = csrf_from(client.get(f"/console/cases/{number}").text)
    added = client.post(
        f"/console/cases/{number}/identifiers",
        data={
            "csrf_token": token,
            "kind": "handle",
            "value": "https://www.instagram.com/user_alpha/",
        },
        follow_redirects=True,
        headers=EN,
    )
    assert added.status_code == 200
    assert "The identifier was added" in added.text
    assert f'data-linked="{existing}"' in added.text
    assert "(Instagram)" in added.text
    refused = client.post(
        f"/console/cases/{number}/identifiers",
        data={"csrf_token": token, "kind": "phone", "value": "call me maybe"},
        follow_redirects=True,
        headers=EN,
    )
    assert "That is not a phone number" in refused.text
    assert len(events(app, AuditTag.IDENTIFIER_ADDED)) == 2  # the factory's and this one


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.POLICE_LIAISON])
def test_roles_outside_case_work_see_no_links(
    app: FastAPI, client: TestClient, login_as: Login, role: Role
) -> None:
    first = named(app, "user_alpha")
    second = named(app, "user_alpha")
    login_as(role)
    html = client.get(f"/console/cases/{first}", headers=EN).text
    assert second not in html and "Linked cases" not in html and "user_alpha" not in html


def test_supervisors_see_the_cluster_and_it_is_audited(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    numbers = [
        named(app, "user_alpha", urls=[f"https://www.instagram.com/p/{i}/"]) for i in range(3)
    ]
    login_as(Role.ANALYST)
    assert client.get(f"/console/cases/{numbers[0]}/cluster").status_code == 403
    login_as(Role.SUPERVISOR)
    page = client.get(f"/console/cases/{numbers[0]}/cluster", headers=EN)
    assert page.status_code == 200
    assert 'data-victims="3"' in page.text
    assert all(f'data-case="{n}"' in page.text for n in numbers)
    assert page.text.count("<circle") == 3 and page.text.count("<line") == 2  # 0-1, 0-2
    assert "instagram.com" in page.text
    assert len(events(app, AuditTag.CLUSTER_VIEWED)) == 1


def test_a_growing_cluster_raises_every_case_in_the_queue(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    old = named(app, "user_alpha", created_at=app.state.reclaim.clock() - timedelta(days=20))
    alone = named(app, "someone_else", created_at=app.state.reclaim.clock() - timedelta(days=20))
    login_as(Role.ANALYST)
    client.get(f"/console/cases/{old}")  # links the case (nothing to link to yet)
    new = named(app, "@User_Alpha", situation=Situation.ONLINE)
    client.get(f"/console/cases/{new}")  # the new victim joins: the group grew
    html = client.get("/console/", headers=EN).text
    assert "New victim of a known offender" in html
    assert html.index(old) < html.index(alone)


def search(client: TestClient, key: str, q: str, **extra: str) -> str:
    response = client.get("/console/search", params={"key": key, "q": q, **extra}, headers=EN)
    assert response.status_code == 200, response.text
    return response.text


def test_search_finds_a_case_by_every_kind_of_key(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    state = app.state.reclaim
    with state.sessions() as session:
        case = make_case(
            session,
            urls=["https://leaks.example/album/7", "https://www.instagram.com/p/Q1/"],
            files=1,
            created_at=state.clock() - timedelta(days=2),
        )
        other = make_case(session, urls=["https://elsewhere.example/1"])
        attach(session, case.items[2], md5("searched-for"), pdq(PDQ_A))
        identifiers.add_by_analyst(
            session,
            case,
            IdentifierKind.PHONE,
            "0912 345 678",
            actor_id=make_user(session).id,
            keys=linkage_keys(state.settings),
        )
        session.commit()
        number, other_number = case.number, other.number
        created = case.created_at.astimezone(state.settings.zone).date().isoformat()
    login_as(Role.ANALYST)
    md5_hex = md5("searched-for").value
    for key, q in [
        ("case_number", number.lower()),
        ("url", "https://leaks.example/album/7#top"),
        ("host", "leaks.example"),
        ("hash", md5_hex),
        ("hash", PDQ_A),
        ("hash", flip_bits(PDQ_A, 8)),
        ("identifier", "+886912345678"),
        ("identifier", "０９１２－３４５－６７８"),
        ("date", created),
    ]:
        html = search(client, key, q)
        assert f'data-found="{number}"' in html, (key, q)
        assert f'data-found="{other_number}"' not in html, (key, q)
    assert f'data-found="{number}"' not in search(client, "hash", flip_bits(PDQ_A, 8), distance="4")
    assert "pdq:8" in search(client, "hash", flip_bits(PDQ_A, 8))
    bad = client.get("/console/search", params={"key": "hash", "q": "xyz"}, headers=EN)
    assert bad.status_code == 400 and "hexadecimal" in bad.text
    trail = events(app, AuditTag.CASES_SEARCHED)
    assert len(trail) == 12
    phone = [e for e in trail if e.details["key"] == "identifier"]
    assert all("query" not in e.details and "912" not in str(e.details) for e in phone)
    assert phone[0].details["query_hash"] != phone[1].details["query_hash"]
    assert any(e.details.get("query") == md5_hex for e in trail)


@pytest.mark.parametrize("role", [Role.SOCIAL_WORKER, Role.POLICE_LIAISON, Role.ADMIN])
def test_search_refuses_other_roles(
    app: FastAPI, client: TestClient, login_as: Login, role: Role
) -> None:
    login_as(role)
    response = client.get("/console/search", params={"key": "host", "q": "leaks.example"})
    assert response.status_code == 403
    assert events(app, AuditTag.CASES_SEARCHED) == []


def test_a_supervisor_marks_a_link_wrong_and_it_stays_undone(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    first = named(app, "user_alpha")
    second = named(app, "user_alpha")
    login_as(Role.ANALYST)
    page = client.get(f"/console/cases/{first}", headers=EN).text
    assert f'data-linked="{second}"' in page and "This link is wrong" not in page
    action = f"/console/cases/{first}/links/{second}/reject"
    refused = client.post(action, data={"csrf_token": csrf_from(page), "reason": "no"})
    assert refused.status_code == 403

    login_as(Role.SUPERVISOR)
    page = client.get(f"/console/cases/{first}", headers=EN).text
    assert "This link is wrong" in page and "This case does not name it" in page
    empty = client.post(action, data={"csrf_token": csrf_from(page), "reason": " "}, headers=EN)
    assert "Say why the link is wrong." in empty.text and f'data-linked="{second}"' in empty.text
    done = client.post(
        action,
        data={"csrf_token": csrf_from(page), "reason": "A common name, not one person"},
        headers=EN,
    )
    assert "The link was marked as wrong" in done.text
    for number, other in ((first, second), (second, first)):
        shown = client.get(f"/console/cases/{number}", headers=EN).text  # links again
        assert f'data-linked="{other}"' not in shown
    cluster = client.get(f"/console/cases/{first}/cluster", headers=EN).text
    assert 'data-victims="1"' in cluster
    (event, _other) = events(app, AuditTag.LINK_REJECTED)
    assert event.details["reason"] == "A common name, not one person"
