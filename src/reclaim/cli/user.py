"""`reclaim user create|list|deactivate|reset|revoke-sessions`: staff accounts.

The first administrator is created here; after that, administrators can manage users
in the console too.  Nothing here sets a password: new and reset accounts get a
one-time enrolment link, through which the person chooses their own password and
sets up their authenticator app.
"""

from __future__ import annotations

import typer
from rich.table import Column, Table
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts import enrolment
from reclaim.accounts import users as accounts
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.accounts.staff_sessions import SessionPolicy
from reclaim.audit.domain import ActorKind
from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.config import Settings

user_app = typer.Typer(
    help="Staff accounts: create, list, deactivate, reset.", no_args_is_help=True
)
app.add_typer(user_app, name="user")

OPERATOR = audit.Actor(ActorKind.OPERATOR)
ROLES = ", ".join(role.value for role in Role)


def _user(session: Session, email: str) -> User:
    user = accounts.find_user(session, email)
    if user is None:
        raise fail(f"no account for {email}")
    return user


def _print_link(config: Settings, user: User, token: str) -> None:
    link = enrolment.enrolment_link(config.base_url, token)
    console.print(
        f"One-time enrolment link for {user.email} "
        f"(valid {config.enrolment_link_hours} h; it is not shown again):"
    )
    # Printed bare, without wrapping or markup, so that it can be copied whole.
    console.print(link, soft_wrap=True, markup=False, highlight=False)


@user_app.command("create")
def create(
    role: str = typer.Option(..., help=f"One of: {ROLES}."),
    email: str = typer.Option(..., help="The person's work email address (their login)."),
    name: str = typer.Option("", help="Display name (default: the part before the @)."),
) -> None:
    """Create a staff account and print its one-time enrolment link."""
    if role not in {r.value for r in Role}:
        raise fail(f"unknown role {role!r}; choose one of: {ROLES}", code=2)
    config = settings()
    try:
        with database(config) as session:
            invitation = enrolment.invite(
                session,
                email=email,
                role=Role(role),
                display_name=name,
                hours=config.enrolment_link_hours,
                actor=OPERATOR,
            )
    except accounts.AccountError as exc:
        raise fail(str(exc)) from None
    # Only once committed: a link printed for a rolled-back account would not work.
    console.print(f"Created {invitation.user.email} ({role}).")
    _print_link(config, invitation.user, invitation.token)


@user_app.command("list")
def list_users() -> None:
    """Every staff account with its role, state and live sessions."""
    config = settings()
    policy = SessionPolicy.of(config.session_idle_minutes, config.session_absolute_hours)
    with database(config) as session:
        people = accounts.list_users(session)
        live = accounts.live_session_counts(session, policy)
    # The email is what every other command takes: never cut it (nor the state) short.
    table = Table(
        Column("email", no_wrap=True),
        "name",
        Column("role", no_wrap=True),
        Column("state", no_wrap=True),
        "last login",
        "live",
    )
    for user in people:
        state = (
            "deactivated"
            if not user.is_active
            else "active"
            if accounts.is_enrolled(user)
            else "pending"  # invited or reset; enrolment not finished
        )
        last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never"
        table.add_row(
            user.email, user.display_name, user.role.value, state, last, str(live.get(user.id, 0))
        )
    console.print(table)


@user_app.command("deactivate")
def deactivate(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Stop an account from logging in and end all its sessions."""
    with database(settings()) as session:
        user = _user(session, email)
        if not user.is_active:
            console.print(f"{user.email} is already deactivated.")
            return
        ended = accounts.deactivate(session, user, actor=OPERATOR)
    console.print(f"Deactivated {user.email}; ended {ended} session(s).")


@user_app.command("reset")
def reset(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """Wipe password, authenticator and recovery codes; print a new enrolment link."""
    config = settings()
    try:
        with database(config) as session:
            user = _user(session, email)
            token = enrolment.reset(
                session, user, hours=config.enrolment_link_hours, actor=OPERATOR
            )
    except accounts.AccountError as exc:
        raise fail(str(exc)) from None
    console.print(f"Reset {user.email}: password, authenticator and recovery codes wiped.")
    _print_link(config, user, token)


@user_app.command("revoke-sessions")
def revoke_sessions(email: str = typer.Argument(..., help="The account's email address.")) -> None:
    """End every session of an account (it must log in again)."""
    with database(settings()) as session:
        user = _user(session, email)
        ended = accounts.revoke_sessions(session, user, actor=OPERATOR)
    console.print(f"Ended {ended} session(s) of {user.email}.")
