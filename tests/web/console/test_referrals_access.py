"""The referral and agency routes, as every role and anonymously, with real ids.

``EXPECTED`` is this feature's own statement of who may do what (docs/operators.md);
the console's permission table must say the same, and the routes must behave as it
says (tests/web/console/test_access.py covers every console route with ids that name
nothing; this file uses a real case, referral and agency).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.cases.domain import AgeGroup
from reclaim.referrals import referring
from reclaim.web.console import agencies, permissions, referrals
from reclaim.web.console.permissions import Gate
from reclaim.web.csrf import CSRF_COOKIE, STAFF_COOKIE, token_for
from tests.support.cases import make_case, make_user
from tests.support.referrals import make_agency

Login = Callable[..., User]

WORKERS = frozenset({Role.ANALYST, Role.SUPERVISOR})
SUPERVISOR = frozenset({Role.SUPERVISOR})
AGENCY_STAFF = frozenset({Role.SOCIAL_WORKER, Role.POLICE_LIAISON})
ADMIN = frozenset({Role.ADMIN})
ANYONE = None  # no login needed
EXPECTED: dict[str, frozenset[Role] | None] = {
    "console.case.referrals": WORKERS,
    "console.case.referrals.draft": WORKERS,
    "console.case.consent": WORKERS,
    "console.case.hold": SUPERVISOR,
    "console.case.hold.release": SUPERVISOR,
    "console.referral.send": SUPERVISOR,
    "console.referral.cancel": WORKERS,
    "console.referred": AGENCY_STAFF,
    "console.referred.case": AGENCY_STAFF,
    "console.referred.package": AGENCY_STAFF,
    "console.referred.answer": AGENCY_STAFF,
    "console.referral_answer": ANYONE,
    "console.referral_answer.submit": ANYONE,
    "console.evidence_key": ANYONE,
    "console.agencies": ADMIN,
    "console.agencies.create": ADMIN,
    "console.agency": ADMIN,
    "console.agency.update": ADMIN,
    "console.agency.member": ADMIN,
}


def _routes() -> list[APIRoute]:
    routes = [*referrals.router.routes, *agencies.router.routes]
    assert all(isinstance(route, APIRoute) for route in routes)
    return routes  # type: ignore[return-value]


def test_the_permission_table_says_what_this_feature_needs() -> None:
    assert sorted({route.name for route in _routes()}) == sorted(EXPECTED)
    for name, roles in EXPECTED.items():
        granted = permissions.ROUTES[name]
        if roles is None:
            assert granted.gate is Gate.PUBLIC, name
        else:
            assert (granted.gate, granted.roles) == (Gate.STAFF, roles), name


def _values(app: FastAPI) -> dict[str, int | str]:
    with app.state.reclaim.sessions() as session:
        agency = make_agency(session)
        case = make_case(session, urls=["https://example.org/a"], age=AgeGroup.UNDER_18)
        referral = referring.draft(
            session, case, agency, [], actor=audit.SYSTEM, created_by_id=None
        )
        make_user(session, Role.SUPERVISOR)
        session.commit()
        return {
            "number": case.number,
            "reference": referral.reference,
            "agency_id": agency.id,
            "token": "not-a-token",
        }


def _csrf(app: FastAPI, client: TestClient) -> str:
    client.get("/")
    secret = app.state.reclaim.settings.secret_key.get_secret_value().encode()
    return token_for(secret, client.cookies[CSRF_COOKIE], client.cookies.get(STAFF_COOKIE, ""))


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_the_table_says(
    app: FastAPI, client: TestClient, login_as: Login, role: Role
) -> None:
    values = _values(app)
    login_as(role)
    token = _csrf(app, client)
    checked = 0
    for route in _routes():
        path = "/console" + route.path.format(**values)
        for method in route.methods:
            response = client.request(
                method,
                path,
                data={"csrf_token": token} if method == "POST" else None,
                follow_redirects=False,
            )
            allowed = EXPECTED[route.name]
            if allowed is None or role in allowed:
                assert response.status_code != 403, f"{role} refused {method} {path}"
                assert response.status_code < 500, f"{method} {path}: {response.status_code}"
            else:
                assert response.status_code == 403, f"{role} got {response.status_code} {path}"
            checked += 1
    assert checked == 19


def test_anonymous_visitors_are_sent_to_log_in(app: FastAPI, client: TestClient) -> None:
    values = _values(app)
    token = _csrf(app, client)
    for route in _routes():
        if EXPECTED[route.name] is None:
            continue
        for method in route.methods:
            response = client.request(
                method,
                "/console" + route.path.format(**values),
                data={"csrf_token": token} if method == "POST" else None,
                follow_redirects=False,
            )
            assert response.status_code == 303, route.name
            assert response.headers["location"].startswith("/console/login?next=")
