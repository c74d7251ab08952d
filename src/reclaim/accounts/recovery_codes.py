"""Single-use recovery codes: the way in when the phone with the authenticator is lost.

Ten codes are shown once, when they are issued; only their argon2 hashes are kept.
Issuing a new set retires the old one.  Each code carries 60 random bits, so unlike a
password it needs no expensive hash to resist guessing: a light argon2 profile keeps
checking a code against the ten stored hashes fast enough for a login.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.models import RecoveryCode, User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.clock import Clock, system_clock

COUNT = 10
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l/1, o/0 to misread on paper
_GROUPS = 3
_GROUP_LENGTH = 4
_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def new_code() -> str:
    groups = (
        "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
    )
    return "-".join(groups)


def normalise(text: str) -> str:
    """Codes are typed with or without dashes and spaces, in either case."""
    compact = "".join(ch for ch in text.lower() if ch.isalnum())
    groups = [compact[i : i + _GROUP_LENGTH] for i in range(0, len(compact), _GROUP_LENGTH)]
    return "-".join(groups)


def looks_like_code(text: str) -> bool:
    compact = normalise(text).replace("-", "")
    return len(compact) == _GROUPS * _GROUP_LENGTH and all(ch in _ALPHABET for ch in compact)


def issue(
    session: Session, user: User, *, actor: audit.Actor, clock: Clock = system_clock
) -> list[str]:
    """Replace the user's codes with a fresh set; returns them for showing once."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = clock()
    codes = [new_code() for _ in range(COUNT)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hasher.hash(code), created_at=now)
        for code in codes
    )
    audit.record(
        session,
        AuditTag.RECOVERY_CODES_ISSUED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"count": COUNT},
        clock=clock,
    )
    return codes


def use(session: Session, user: User, text: str, *, clock: Clock = system_clock) -> bool:
    """Spend one unused code if ``text`` is one (in the caller's transaction)."""
    if not looks_like_code(text):
        return False
    code = normalise(text)
    unused = session.scalars(
        select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .with_for_update()
    ).all()
    for stored in unused:
        if _matches(stored.code_hash, code):
            stored.used_at = clock()
            session.flush()
            return True
    return False


def _matches(stored_hash: str, code: str) -> bool:
    try:
        return _hasher.verify(stored_hash, code)
    except (VerificationError, InvalidHashError):
        return False


def remaining(session: Session, user_id: int) -> int:
    count = session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def last_issued(session: Session, user_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(RecoveryCode.created_at)).where(RecoveryCode.user_id == user_id)
    )
