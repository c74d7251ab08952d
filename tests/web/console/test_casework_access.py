"""Every case-work route, as every role and anonymously: allowed, or 403 / login.

``EXPECTED`` states the rules for case work (docs/analysts.md); the console's one
permission table (web/console/permissions.py) must say the same, and the routes must
behave as it says.  (tests/web/console/test_access.py covers every console route with
ids that name nothing; this file requests the case-work routes with real ones.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.cases import decisions
from reclaim.cases.domain import Classification
from reclaim.cases.models import Decision
from reclaim.web.console import cases, permissions, queue, review
from reclaim.web.csrf import CSRF_COOKIE, STAFF_COOKIE, token_for
from tests.support.cases import make_case, make_user, quarantined

Login = Callable[..., User]

WORKERS = frozenset({Role.ANALYST, Role.SUPERVISOR})
EXPECTED: dict[str, frozenset[Role]] = {
    "console.queue": WORKERS,
    "console.case": WORKERS,  # agency staff read referrals instead (test_referrals.py)
    "console.case.claim": WORKERS,
    "console.case.assign": frozenset({Role.SUPERVISOR}),
    "console.case.status": WORKERS,
    "console.case.notes": WORKERS,
    "console.item.fetch": WORKERS,
    "console.item.decide": WORKERS,
    "console.decision.agree": WORKERS,
    "console.media": WORKERS,
    "console.media.preview": WORKERS,
    "console.media.reveal": WORKERS,
}


def _casework_routes() -> list[APIRoute]:
    routes = [*queue.router.routes, *cases.router.routes, *review.router.routes]
    assert all(isinstance(route, APIRoute) for route in routes)
    return routes  # type: ignore[return-value]


def test_the_permission_table_says_what_case_work_needs() -> None:
    names = [route.name for route in _casework_routes()]
    assert sorted(names) == sorted(EXPECTED)
    for name, roles in EXPECTED.items():
        assert permissions.ROUTES[name].roles == roles, name


def _fixtures(app: FastAPI) -> dict[str, int | str]:
    with app.state.reclaim.sessions() as session:
        analyst = make_user(session, Role.ANALYST)
        case = make_case(session, urls=["http://10.0.0.1/a.jpg"])  # refused without a dial
        item = case.items[0]
        decision = decisions.decide(
            session,
            item,
            Classification.NEEDS_INFORMATION,
            analyst_id=analyst.id,
            reason=None,
            policy=decisions.DecisionPolicy(),
        )
        media = quarantined(
            session,
            item,
            "missing-object",
            fetched_at=case.created_at,
            expires_at=case.created_at,
            size=1,
        )
        session.commit()
        return {
            "number": case.number,
            "item_id": item.id,
            "decision_id": decision.id,
            "media_id": media.id,
            "user_id": analyst.id,
        }


def _requests(values: dict[str, int | str]) -> list[tuple[str, str, str]]:
    """(name, method, path) of every case-work route, with real ids filled in."""
    return sorted(
        (route.name, method, "/console" + route.path.format(**values))
        for route in _casework_routes()
        for method in route.methods
    )


def _csrf(app: FastAPI, client: TestClient) -> str:
    """The token a form of this browser would carry (see web/csrf.py)."""
    client.get("/")  # any rendered page gives the browser its CSRF cookie
    secret = app.state.reclaim.settings.secret_key.get_secret_value().encode()
    return token_for(secret, client.cookies[CSRF_COOKIE], client.cookies.get(STAFF_COOKIE, ""))


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_the_table_says(
    app: FastAPI, client: TestClient, login_as: Login, role: Role
) -> None:
    values = _fixtures(app)
    login_as(role)
    token = _csrf(app, client)
    for name, method, path in _requests(values):
        data = {"csrf_token": token, "user_id": str(values["user_id"])}
        response = client.request(
            method, path, data=data if method == "POST" else None, follow_redirects=False
        )
        if role in EXPECTED[name]:
            assert response.status_code != 403, f"{role} refused {method} {path}"
            assert not response.headers.get("location", "").startswith("/console/login")
        else:
            assert response.status_code == 403, f"{role} got {response.status_code} from {path}"


def test_anonymous_visitors_get_nothing(app: FastAPI, client: TestClient) -> None:
    values = _fixtures(app)
    token = _csrf(app, client)
    for _name, method, path in _requests(values):
        response = client.request(
            method,
            path,
            data={"csrf_token": token} if method == "POST" else None,
            follow_redirects=False,
        )
        assert response.status_code == 303, f"{method} {path}"
        assert response.headers["location"].startswith("/console/login?next=")
    with app.state.reclaim.sessions() as session:
        assert session.scalars(select(Decision)).all() != []  # nothing changed hands
