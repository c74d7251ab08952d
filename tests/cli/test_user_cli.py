"""`reclaim user ...`: staff accounts from the command line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts import enrolment, staff_sessions, users
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.accounts.staff_sessions import SessionPolicy
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke

LINK = re.compile(r"(http://127\.0\.0\.1:8000/console/enrol/([A-Za-z0-9_-]{40,}))")


@contextmanager
def database(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def link_in(output: str) -> tuple[str, str]:
    match = LINK.search(output)
    assert match is not None, output
    return match.group(1), match.group(2)


def test_create_prints_a_working_one_time_link(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    result = reclaim(
        "user",
        "create",
        "--role",
        "supervisor",
        "--email",
        "Ana.Wu@Staff.Reclaim.test",
        "--name",
        "Ana Wu",
    )
    assert result.exit_code == 0, result.output
    assert "ana.wu@staff.reclaim.test" in result.output
    _, token = link_in(result.output)
    with database(cli_env["RECLAIM_DATABASE_URL"]) as session:
        user = users.find_user(session, "ana.wu@staff.reclaim.test")
        assert user is not None
        assert user.role is Role.SUPERVISOR and user.display_name == "Ana Wu"
        assert user.password_hash is None
        found = enrolment.find(session, token)
        assert found is not None and found.user_id == user.id
        tags = session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)).all()
        assert tags == [AuditTag.USER_CREATED.value, AuditTag.ENROLMENT_LINK_CREATED.value]
        actor = session.scalars(select(AuditEvent.actor_type)).first()
        assert actor == "operator"


def test_create_refuses_bad_input(reclaim: Invoke) -> None:
    assert reclaim("user", "create", "--role", "wizard", "--email", "a@b.test").exit_code == 2
    bad = reclaim("user", "create", "--role", "analyst", "--email", "not-an-email")
    assert bad.exit_code == 1
    assert reclaim("user", "create", "--role", "analyst", "--email", "a@b.test").exit_code == 0
    again = reclaim("user", "create", "--role", "admin", "--email", "A@b.test")
    assert again.exit_code == 1
    assert "already an account" in again.output


def test_list_shows_state(reclaim: Invoke) -> None:
    reclaim("user", "create", "--role", "analyst", "--email", "one@staff.reclaim.test")
    reclaim("user", "create", "--role", "admin", "--email", "two@staff.reclaim.test")
    reclaim("user", "deactivate", "two@staff.reclaim.test")
    result = reclaim("user", "list")
    assert result.exit_code == 0
    lines = {line.split()[1]: line for line in result.output.splitlines() if "@" in line}
    assert "pending" in lines["one@staff.reclaim.test"]
    assert "deactivated" in lines["two@staff.reclaim.test"]


def _log_in(url: str, email: str) -> str:
    with database(url) as session:
        user = users.find_user(session, email)
        assert user is not None
        token = staff_sessions.start(session, user, SessionPolicy.of(30, 12), mfa_passed=True).token
        session.commit()
        return token


def _live(url: str, token: str) -> bool:
    with database(url) as session:
        return staff_sessions.resolve(session, token, SessionPolicy.of(30, 12)) is not None


def test_deactivate_ends_sessions(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    url = cli_env["RECLAIM_DATABASE_URL"]
    reclaim("user", "create", "--role", "analyst", "--email", "x@staff.reclaim.test")
    token = _log_in(url, "x@staff.reclaim.test")
    result = reclaim("user", "deactivate", "x@staff.reclaim.test")
    assert result.exit_code == 0
    assert "ended 1 session" in result.output
    assert not _live(url, token)
    assert reclaim("user", "deactivate", "nobody@staff.reclaim.test").exit_code == 1


def test_reset_wipes_and_issues_a_new_link(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    url = cli_env["RECLAIM_DATABASE_URL"]
    first = reclaim("user", "create", "--role", "analyst", "--email", "r@staff.reclaim.test")
    _, old_token = link_in(first.output)
    with database(url) as session:
        user = users.find_user(session, "r@staff.reclaim.test")
        assert user is not None
        users.set_password(user, "a password that was set")
        user.totp_secret = "sealed"
        session.commit()
    token = _log_in(url, "r@staff.reclaim.test")
    result = reclaim("user", "reset", "r@staff.reclaim.test")
    assert result.exit_code == 0, result.output
    _, new_token = link_in(result.output)
    assert not _live(url, token)
    with database(url) as session:
        user = session.scalars(select(User).where(User.email == "r@staff.reclaim.test")).one()
        assert user.password_hash is None and user.totp_secret is None
        assert enrolment.find(session, old_token) is None
        assert enrolment.find(session, new_token) is not None


def test_revoke_sessions(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    url = cli_env["RECLAIM_DATABASE_URL"]
    reclaim("user", "create", "--role", "analyst", "--email", "s@staff.reclaim.test")
    tokens = [_log_in(url, "s@staff.reclaim.test") for _ in range(2)]
    result = reclaim("user", "revoke-sessions", "s@staff.reclaim.test")
    assert result.exit_code == 0
    assert "Ended 2 session(s)" in result.output
    assert not any(_live(url, t) for t in tokens)
