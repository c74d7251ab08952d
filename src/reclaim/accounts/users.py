"""Staff accounts: creation, roles, deactivation, passwords.

Enrolment (the password and authenticator a new user sets) is in ``enrolment``; the
login steps are in ``login``.  Every change here is audited in the caller's
transaction, so the change and its audit row commit together.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts import passwords, staff_sessions
from reclaim.accounts.domain import Role
from reclaim.accounts.models import EnrolmentToken, StaffSession, User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.addresses import InvalidAddressError, normalise_email, parse_email
from reclaim.domain.clock import Clock, system_clock
from reclaim.security.secret_hashes import hash_secret

MAX_NAME = 120


class AccountError(ValueError):
    """A change to an account that cannot be made (the message says why)."""


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.is_active.desc(), User.email)))


def live_session_counts(
    session: Session, policy: staff_sessions.SessionPolicy, *, clock: Clock = system_clock
) -> dict[int, int]:
    """Sessions not ended, idle or expired, per user id (see staff_sessions.live_sessions)."""
    now = clock()
    rows = session.execute(
        select(StaffSession.user_id, func.count())
        .where(
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            StaffSession.last_seen_at > now - policy.idle,
        )
        .group_by(StaffSession.user_id)
    ).all()
    return {user_id: int(count) for user_id, count in rows}


def is_enrolled(user: User) -> bool:
    return user.password_hash is not None and user.totp_enabled_at is not None


def create_user(
    session: Session,
    *,
    email: str,
    role: Role,
    display_name: str,
    password: str | None,
    actor: audit.Actor,
) -> User:
    try:
        address = parse_email(email)
    except InvalidAddressError as exc:
        raise AccountError(str(exc)) from None
    if find_user(session, address) is not None:
        raise AccountError(f"there is already an account for {address}")
    name = display_name.strip() or address.split("@", 1)[0]
    user = User(
        email=address,
        role=role,
        display_name=name[:MAX_NAME],
        password_hash=hash_secret(password) if password else None,
        is_active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        AuditTag.USER_CREATED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"email": user.email, "role": role.value},
    )
    return user


def change_role(
    session: Session, user: User, role: Role, *, actor: audit.Actor, clock: Clock = system_clock
) -> None:
    if user.role == role:
        return
    before = user.role
    user.role = role
    audit.record(
        session,
        AuditTag.USER_UPDATED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"role": {"from": before.value, "to": role.value}},
        clock=clock,
    )


def deactivate(
    session: Session, user: User, *, actor: audit.Actor, clock: Clock = system_clock
) -> int:
    """Lock the account out: no login, no enrolment, every session ended."""
    if not user.is_active:
        return 0
    user.is_active = False
    session.execute(
        delete(EnrolmentToken).where(
            EnrolmentToken.user_id == user.id, EnrolmentToken.used_at.is_(None)
        )
    )
    ended = staff_sessions.end_all(session, user.id, clock=clock)
    audit.record(
        session,
        AuditTag.USER_DEACTIVATED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"sessions_ended": ended},
        clock=clock,
    )
    return ended


def reactivate(
    session: Session, user: User, *, actor: audit.Actor, clock: Clock = system_clock
) -> None:
    if user.is_active:
        return
    user.is_active = True
    audit.record(
        session,
        AuditTag.USER_UPDATED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"active": True},
        clock=clock,
    )


def revoke_sessions(
    session: Session,
    user: User,
    *,
    actor: audit.Actor,
    keep: StaffSession | None = None,
    clock: Clock = system_clock,
) -> int:
    """End the user's sessions (all but ``keep``); audited even when there were none."""
    ended = staff_sessions.end_all(session, user.id, keep=keep, clock=clock)
    audit.record(
        session,
        AuditTag.SESSIONS_REVOKED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"sessions_ended": ended, "kept_current": keep is not None},
        clock=clock,
    )
    return ended


def set_password(user: User, password: str, *, clock: Clock = system_clock) -> None:
    """Store a new password hash (the caller has checked the policy)."""
    user.password_hash = hash_secret(password)
    user.password_changed_at = clock()


def change_password(
    session: Session,
    user: User,
    new_password: str,
    *,
    min_length: int,
    keep: StaffSession | None,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> list[passwords.PasswordProblem]:
    """Set a new password if the policy accepts it, ending the user's other sessions."""
    found = passwords.problems(
        new_password, min_length=min_length, personal=(user.email, user.display_name)
    )
    if found:
        return found
    set_password(user, new_password, clock=clock)
    ended = staff_sessions.end_all(session, user.id, keep=keep, clock=clock)
    audit.record(
        session,
        AuditTag.PASSWORD_CHANGED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"other_sessions_ended": ended},
        clock=clock,
    )
    return []
