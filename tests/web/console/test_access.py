"""Who can reach what: every console route, as every role, half logged in, anonymous.

The routes come from the running app (so a route added anywhere under /console is
covered without touching this file), the expected answers from the one permission
table the routes themselves use (web/console/permissions.py), and every route is
requested for real.  A route missing from the table fails here.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from reclaim import audit
from reclaim.accounts import staff_sessions
from reclaim.accounts import users as accounts
from reclaim.accounts.domain import Role
from reclaim.accounts.staff_sessions import SessionPolicy
from reclaim.web.console import permissions
from reclaim.web.console.auth import LOGIN_PATH, SECOND_FACTOR_PATH
from reclaim.web.console.permissions import Gate
from reclaim.web.csrf import CSRF_COOKIE, STAFF_COOKIE, token_for

ANONYMOUS = "anonymous"
HALF = "half-logged-in"
PRINCIPALS = [ANONYMOUS, HALF, *(role.value for role in Role)]
_PARAM = re.compile(r"\{([^}:]+)(:[^}]+)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with path parameters filled in (values that name nothing)
    name: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.name})"


def console_routes(app: FastAPI) -> list[Route]:
    found = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not path.startswith("/console"):
            continue
        concrete = _PARAM.sub("999999", path)  # no case, item, user or token has this id
        for method in sorted(route.methods or ()):
            if method not in {"HEAD", "OPTIONS"}:
                found.append(Route(method, concrete, str(route.name)))
    return found


def test_console_routes_are_found(app: FastAPI) -> None:
    names = {route.name for route in console_routes(app)}
    assert {"console.login", "console.account", "console.audit", "console.users"} <= names


def test_every_console_route_is_in_the_permission_table(app: FastAPI) -> None:
    missing = sorted({str(r) for r in console_routes(app) if r.name not in permissions.ROUTES})
    assert missing == [], "add these routes to ROUTES in web/console/permissions.py"


def test_the_table_names_only_routes_that_exist(app: FastAPI) -> None:
    names = {route.name for route in console_routes(app)}
    assert sorted(set(permissions.ROUTES) - names) == []


class Browser:
    """Sets up a fresh session of some kind for each request, with a valid CSRF token."""

    def __init__(self, app: FastAPI, client: TestClient, principal: str) -> None:
        self.app, self.client, self.principal = app, client, principal
        self.state = app.state.reclaim
        self.policy = SessionPolicy.of(
            self.state.settings.session_idle_minutes, self.state.settings.session_absolute_hours
        )

    def _new_session(self) -> str:
        role = Role.ANALYST if self.principal == HALF else Role(self.principal)
        with self.state.sessions() as session:
            user = accounts.create_user(
                session,
                email=f"{role.value}-{secrets.token_hex(4)}@staff.reclaim.test",
                role=role,
                display_name="Access matrix",
                password=None,  # no argon2: these users never type a password
                actor=audit.SYSTEM,
            )
            user.totp_enabled_at = datetime.now(UTC)
            started = staff_sessions.start(
                session, user, self.policy, mfa_passed=self.principal != HALF
            )
            session.commit()
            return started.token

    def request(self, route: Route, *, with_token: bool = True) -> tuple[int, str]:
        self.client.cookies.clear()
        staff_token = "" if self.principal == ANONYMOUS else self._new_session()
        seed = secrets.token_urlsafe(16)
        self.client.cookies.set(CSRF_COOKIE, seed)
        if staff_token:
            self.client.cookies.set(STAFF_COOKIE, staff_token)
        data = {}
        if with_token and route.method != "GET":
            secret = self.state.settings.secret_key.get_secret_value().encode()
            data["csrf_token"] = token_for(secret, seed, staff_token)
        response = self.client.request(
            route.method, route.path, data=data or None, follow_redirects=False
        )
        return response.status_code, response.headers.get("location", "")


def outcome(status: int, location: str) -> str:
    if status == 403:
        return "forbidden"
    if status in (302, 303, 307) and location.startswith(f"{LOGIN_PATH}?next="):
        return "login"
    if status in (302, 303, 307) and location == SECOND_FACTOR_PATH:
        return "second factor"
    if status >= 500:
        return f"error {status}"
    return "allowed"


def expected(access: permissions.Access, principal: str) -> str:
    if access.gate is Gate.PUBLIC:
        return "allowed"
    if principal == ANONYMOUS:
        return "login"
    if access.gate is Gate.HALF:
        return "allowed"
    if principal == HALF:
        return "second factor"
    return "allowed" if access.allows(Role(principal)) else "forbidden"


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_every_console_route_answers_as_the_table_says(
    app: FastAPI, client: TestClient, principal: str
) -> None:
    browser = Browser(app, client, principal)
    wrong = []
    routes = sorted(console_routes(app), key=lambda r: r.method != "GET")  # reads first
    for route in routes:
        if route.name not in permissions.ROUTES:
            continue  # reported by test_every_console_route_is_in_the_permission_table
        want = expected(permissions.ROUTES[route.name], principal)
        got = outcome(*browser.request(route))
        if got != want:
            wrong.append(f"{route}: expected {want}, got {got}")
    assert wrong == []


def test_every_console_post_needs_a_csrf_token(app: FastAPI, client: TestClient) -> None:
    """Each unsafe route, as someone allowed to use it: refused without a token."""
    wrong = []
    for route in console_routes(app):
        if route.method == "GET" or route.name not in permissions.ROUTES:
            continue
        access = permissions.ROUTES[route.name]
        principal = min(r.value for r in access.roles) if access.roles else Role.ADMIN.value
        status, _ = Browser(app, client, principal).request(route, with_token=False)
        if status != 403:
            wrong.append(f"{route}: {status} without a CSRF token")
    assert wrong == []


def test_a_token_from_another_session_or_origin_is_refused(
    app: FastAPI, client: TestClient
) -> None:
    browser = Browser(app, client, Role.ADMIN.value)
    route = Route("POST", "/console/account/sessions/end-all", "console.account.end_all_sessions")
    secret = app.state.reclaim.settings.secret_key.get_secret_value().encode()
    client.cookies.clear()
    token = browser._new_session()
    client.cookies.set(CSRF_COOKIE, "seed")
    client.cookies.set(STAFF_COOKIE, token)
    other_session = token_for(secret, "seed", "another session's token")
    response = client.post(route.path, data={"csrf_token": other_session})
    assert response.status_code == 403
    good = token_for(secret, "seed", token)
    cross_site = client.post(
        route.path,
        data={"csrf_token": good},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    same_site = client.post(
        route.path,
        data={"csrf_token": good},
        headers={"origin": "http://127.0.0.1"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303
