import re
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey

from reclaim import audit
from reclaim.accounts import staff_sessions
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.accounts.staff_sessions import SessionPolicy
from reclaim.accounts.users import create_user
from reclaim.config import Settings
from reclaim.web.app import create_app
from reclaim.web.csrf import STAFF_COOKIE
from tests.support.clock import FakeClock, mid_totp_step


@pytest.fixture
def app(db_settings: Settings) -> FastAPI:
    """The app on the test database, its clock frozen mid-way through a TOTP step."""
    clock = FakeClock(mid_totp_step())
    return create_app(db_settings, huey=MemoryHuey("test", immediate=True), clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


# --- staff sessions and CSRF --------------------------------------------------------

STAFF_PASSWORD = "a long staff password for tests"


@pytest.fixture
def login_as(app: FastAPI, client: TestClient) -> Callable[..., User]:
    """Log the test client in as a new, fully enrolled staff user of a role.

    The session is started through the sessions service (the login pages have their
    own tests); the cookie is the one the login page would set.
    """
    state = app.state.reclaim

    def login(role: Role, email: str | None = None) -> User:
        with state.sessions() as session:
            user = create_user(
                session,
                email=email or f"{role.value}-{secrets.token_hex(3)}@staff.reclaim.test",
                role=role,
                display_name=f"Test {role.value}",
                password=STAFF_PASSWORD,
                actor=audit.SYSTEM,
            )
            user.totp_enabled_at = datetime.now(UTC)
            policy = SessionPolicy.of(
                state.settings.session_idle_minutes, state.settings.session_absolute_hours
            )
            started = staff_sessions.start(session, user, policy, mfa_passed=True)
            session.commit()
            session.refresh(user)
            session.expunge(user)
        client.cookies.set(STAFF_COOKIE, started.token)
        return user

    return login


_CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = _CSRF_INPUT.search(html)
    assert match is not None, "the page has no CSRF field"
    return match.group(1)
