"""Server-side staff sessions: revocable, with idle and absolute timeouts.

The browser holds a random token; the database holds its SHA-256, so a copy of the
table cannot be replayed as cookies.  A session starts after the password with
``mfa_passed=False`` (it reaches only the second-factor pages); passing the second
factor *rotates* it: the half-way session is revoked and a new token issued, so a
token seen before login is worthless after it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.models import StaffSession, User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.clock import Clock, system_clock

# Writing last_seen_at on every request would make every page view a write; a
# resolution of a minute is plenty for a 30-minute idle timeout.
_TOUCH_EVERY = timedelta(seconds=60)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, idle_minutes: int, absolute_hours: int) -> SessionPolicy:
        return cls(timedelta(minutes=idle_minutes), timedelta(hours=absolute_hours))


@dataclass(frozen=True, slots=True)
class Started:
    token: str  # for the cookie; never stored
    record: StaffSession


def start(
    session: Session,
    user: User,
    policy: SessionPolicy,
    *,
    mfa_passed: bool,
    client: str | None = None,
    user_agent: str | None = None,
    clock: Clock = system_clock,
) -> Started:
    now = clock()
    token = secrets.token_urlsafe(32)
    record = StaffSession(
        token_hash=token_digest(token),
        user_id=user.id,
        mfa_passed=mfa_passed,
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        client=(client or "")[:64] or None,
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(record)
    session.flush()
    return Started(token, record)


def resolve(
    session: Session, token: str | None, policy: SessionPolicy, *, clock: Clock = system_clock
) -> StaffSession | None:
    """The live session for a cookie token, touched; None if unknown, ended or expired."""
    if not token:
        return None
    record = session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_digest(token))
    )
    if record is None or record.revoked_at is not None:
        return None
    now = clock()
    if now >= record.expires_at or now >= record.last_seen_at + policy.idle:
        record.revoked_at = now
        return None
    if not record.user.is_active:
        return None
    if now - record.last_seen_at >= _TOUCH_EVERY:
        record.last_seen_at = now
    return record


def rotate(
    session: Session,
    current: StaffSession,
    policy: SessionPolicy,
    *,
    mfa_passed: bool,
    clock: Clock = system_clock,
) -> Started:
    """End ``current`` and start a fresh session for the same user (at login steps)."""
    current.revoked_at = clock()
    return start(
        session,
        current.user,
        policy,
        mfa_passed=mfa_passed,
        client=current.client,
        user_agent=current.user_agent,
        clock=clock,
    )


def end(session: Session, record: StaffSession, *, clock: Clock = system_clock) -> None:
    if record.revoked_at is None:
        record.revoked_at = clock()


def log_out(session: Session, record: StaffSession, *, clock: Clock = system_clock) -> None:
    """The user logs out of this browser; audited."""
    end(session, record, clock=clock)
    _audit_end(session, record, AuditTag.LOGGED_OUT, clock)


def end_own(session: Session, record: StaffSession, *, clock: Clock = system_clock) -> None:
    """The user ends one of their own sessions (another browser, or this one); audited."""
    end(session, record, clock=clock)
    _audit_end(session, record, AuditTag.SESSIONS_REVOKED, clock)


def _audit_end(session: Session, record: StaffSession, tag: AuditTag, clock: Clock) -> None:
    audit.record(
        session,
        tag,
        actor=audit.Actor.user(record.user_id),
        target=(TargetKind.USER, record.user_id),
        details={"session": record.id},
        clock=clock,
    )


def end_all(
    session: Session, user_id: int, *, keep: StaffSession | None = None, clock: Clock = system_clock
) -> int:
    """Revoke every live session of a user (except ``keep``); returns how many."""
    statement = update(StaffSession).where(
        StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(StaffSession.id != keep.id)
    result = session.execute(statement.values(revoked_at=clock()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(
    session: Session, user_id: int, policy: SessionPolicy, *, clock: Clock = system_clock
) -> list[StaffSession]:
    """The user's sessions that ``resolve`` would still accept, newest first."""
    now = clock()
    return list(
        session.scalars(
            select(StaffSession)
            .where(
                StaffSession.user_id == user_id,
                StaffSession.revoked_at.is_(None),
                StaffSession.expires_at > now,
                # Idle ones are only marked ended when next presented; they are dead now.
                StaffSession.last_seen_at > now - policy.idle,
            )
            .order_by(StaffSession.created_at.desc())
        )
    )
