"""Staff accounts: creation and password hashing (argon2)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.domain.accounts import Role
from reclaim.domain.audit import AuditTag
from reclaim.services import audit
from reclaim.storage.models import User

_hasher = PasswordHasher()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, candidate: str) -> bool:
    try:
        return _hasher.verify(stored_hash, candidate)
    except (VerificationError, InvalidHashError):
        return False


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session,
    *,
    email: str,
    role: Role,
    display_name: str,
    password: str | None,
    actor: audit.Actor,
) -> User:
    user = User(
        email=email.strip().lower(),
        role=role,
        display_name=display_name,
        password_hash=hash_secret(password) if password else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        AuditTag.USER_CREATED,
        actor=actor,
        target=("user", user.id),
        details={"email": user.email, "role": role.value},
    )
    return user
