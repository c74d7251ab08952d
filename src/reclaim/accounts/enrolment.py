"""Enrolment: a one-time link through which a staff user sets a password and a TOTP.

An administrator (or an operator with ``reclaim user create``) invites someone; the
link carries a random token of which only the SHA-256 is stored, valid for
``enrolment_link_hours``.  Through it the user chooses a password, scans the QR code
of a fresh TOTP secret, and proves it works with a code; only then is the account
usable, the link spent, and ten recovery codes shown (once).  Resetting an account
wipes its password, TOTP and recovery codes, ends its sessions, and issues a new link.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts import passwords, recovery_codes, staff_sessions, totp, users
from reclaim.accounts.domain import Role
from reclaim.accounts.models import EnrolmentToken, RecoveryCode, User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.clock import Clock, system_clock
from reclaim.security.field_crypto import FieldCipher

#: Where links point: the console's enrolment page (the CLI prints the same links).
ENROL_PATH = "/console/enrol/"


def enrolment_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{ENROL_PATH}{token}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_active(user: User) -> None:
    if not user.is_active:
        raise users.AccountError(f"{user.email} is deactivated; reactivate it first")


@dataclass(frozen=True, slots=True)
class Invitation:
    user: User
    token: str  # for the link; never stored


def issue_link(
    session: Session,
    user: User,
    *,
    hours: int,
    actor: audit.Actor,
    created_by: User | None = None,
    clock: Clock = system_clock,
) -> str:
    """A new enrolment token for ``user``; links issued before stop working."""
    _require_active(user)
    session.execute(
        delete(EnrolmentToken).where(
            EnrolmentToken.user_id == user.id, EnrolmentToken.used_at.is_(None)
        )
    )
    now = clock()
    token = secrets.token_urlsafe(32)
    session.add(
        EnrolmentToken(
            token_hash=_digest(token),
            user_id=user.id,
            created_by_id=created_by.id if created_by else None,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    audit.record(
        session,
        AuditTag.ENROLMENT_LINK_CREATED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"valid_hours": hours},
        clock=clock,
    )
    return token


def invite(
    session: Session,
    *,
    email: str,
    role: Role,
    display_name: str,
    hours: int,
    actor: audit.Actor,
    created_by: User | None = None,
    clock: Clock = system_clock,
) -> Invitation:
    """Create an account with no password yet, and its enrolment link."""
    user = users.create_user(
        session, email=email, role=role, display_name=display_name, password=None, actor=actor
    )
    token = issue_link(session, user, hours=hours, actor=actor, created_by=created_by, clock=clock)
    return Invitation(user, token)


def reset(
    session: Session,
    user: User,
    *,
    hours: int,
    actor: audit.Actor,
    created_by: User | None = None,
    clock: Clock = system_clock,
) -> str:
    """Wipe the password, TOTP and recovery codes, end every session, issue a new link."""
    _require_active(user)  # before wiping anything
    user.password_hash = None
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    ended = staff_sessions.end_all(session, user.id, clock=clock)
    audit.record(
        session,
        AuditTag.USER_UPDATED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"reset": True, "sessions_ended": ended},
        clock=clock,
    )
    return issue_link(session, user, hours=hours, actor=actor, created_by=created_by, clock=clock)


def find(
    session: Session, token: str, *, lock: bool = False, clock: Clock = system_clock
) -> EnrolmentToken | None:
    """The unused, unexpired enrolment behind a link, for an active user; else None."""
    if not token or len(token) > 128:
        return None
    statement = select(EnrolmentToken).where(EnrolmentToken.token_hash == _digest(token))
    if lock:  # two tabs finishing the same enrolment: one wins, the other finds it spent
        statement = statement.with_for_update()
    enrolment = session.scalar(statement)
    if enrolment is None or enrolment.used_at is not None or clock() >= enrolment.expires_at:
        return None
    user = session.get(User, enrolment.user_id)
    if user is None or not user.is_active:
        return None
    return enrolment


def user_of(session: Session, enrolment: EnrolmentToken) -> User:
    user = session.get(User, enrolment.user_id)
    if user is None:  # the foreign key makes this impossible
        raise LookupError(f"enrolment {enrolment.id} has no user")
    return user


def password_chosen(user: User) -> bool:
    """The first step is done (a reset clears the password, so this is this enrolment's)."""
    return user.password_hash is not None and user.totp_secret is not None


def choose_password(
    session: Session,
    enrolment: EnrolmentToken,
    password: str,
    *,
    min_length: int,
    cipher: FieldCipher,
    clock: Clock = system_clock,
) -> list[passwords.PasswordProblem]:
    """Step one: set the password (if the policy accepts it) and draw a TOTP secret."""
    user = user_of(session, enrolment)
    found = passwords.problems(
        password, min_length=min_length, personal=(user.email, user.display_name)
    )
    if found:
        return found
    users.set_password(user, password, clock=clock)
    user.totp_secret = totp.seal(cipher, totp.new_secret())
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.flush()
    return []


def authenticator_secret(user: User, cipher: FieldCipher) -> str:
    if user.totp_secret is None:
        raise LookupError("the password step comes first")
    return totp.unseal(cipher, user.totp_secret)


def confirm_authenticator(
    session: Session,
    enrolment: EnrolmentToken,
    code: str,
    *,
    cipher: FieldCipher,
    clock: Clock = system_clock,
) -> list[str] | None:
    """Step two: a valid code turns TOTP on and spends the link; returns recovery codes.

    None when the code is wrong (nothing changes).
    """
    user = user_of(session, enrolment)
    now = clock()
    step = totp.accepted_step(authenticator_secret(user, cipher), code, now=now, last_step=None)
    if step is None:
        return None
    user.totp_enabled_at = now
    user.totp_last_step = step
    enrolment.used_at = now
    actor = audit.Actor.user(user.id)
    staff_sessions.end_all(session, user.id, clock=clock)
    audit.record(
        session,
        AuditTag.USER_ENROLLED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"enrolment": enrolment.id},
        clock=clock,
    )
    return recovery_codes.issue(session, user, actor=actor, clock=clock)
