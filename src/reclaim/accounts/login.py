"""The two login steps, throttled and audited.

Step one checks an email and password; step two a TOTP code or a recovery code.  Both
count failures against the account (``login-account``, keyed by the email typed) and
against the client (``login-client``); while either is over its limit nothing is
checked at all.  An unknown email, a deactivated account and a wrong password are
refused with the same answer after the same argon2 work, so neither the message nor
the time it takes tells an attacker which accounts exist.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NoReturn

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts import recovery_codes, totp, users
from reclaim.accounts.models import User
from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.domain.addresses import normalise_email
from reclaim.domain.clock import Clock, system_clock
from reclaim.security.field_crypto import FieldCipher
from reclaim.security.secret_hashes import hash_secret, needs_rehash, verify_secret
from reclaim.security.throttle import Check, Limit, Throttle

ACCOUNT_BUCKET = "login-account"
CLIENT_BUCKET = "login-client"
#: Who tries a password: nobody we know yet.
ANONYMOUS = audit.Actor(ActorKind.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_account: Limit
    per_client: Limit

    @classmethod
    def of(cls, *, per_account: int, per_client: int, lockout_minutes: int) -> LoginLimits:
        window = timedelta(minutes=lockout_minutes)
        return cls(
            Limit(ACCOUNT_BUCKET, per_account, window), Limit(CLIENT_BUCKET, per_client, window)
        )

    def checks(self, email: str, client: str) -> list[Check]:
        return [
            Check(self.per_account, normalise_email(email)),
            Check(self.per_client, client),
        ]


@dataclass(frozen=True, slots=True)
class Guard:
    """What both steps need to count failures: the throttle, the limits, the client."""

    throttle: Throttle
    limits: LoginLimits
    client: str
    clock: Clock = system_clock


class Refusal(enum.StrEnum):
    INVALID = "invalid"  # wrong or unknown: one answer for every case
    LOCKED = "locked"  # too many failures; try again later
    NOT_ENROLLED = "not_enrolled"  # right password, but no TOTP yet: finish enrolment


class LoginRefusedError(Exception):
    def __init__(self, refusal: Refusal, until: datetime | None = None) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.until = until


class SecondFactor(enum.StrEnum):
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


@cache
def _dummy_hash() -> str:
    # Same parameters as real hashes, so an unknown email costs what a real one does.
    return hash_secret(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One login step by one (claimed) account: counts, records and refuses."""

    session: Session
    guard: Guard
    checks: list[Check]
    target: tuple[TargetKind, int] | None
    actor: audit.Actor = ANONYMOUS

    @classmethod
    def of(
        cls, session: Session, guard: Guard, email: str, user: User | None, *, known: bool
    ) -> _Attempt:
        return cls(
            session,
            guard,
            guard.limits.checks(email, guard.client),
            (TargetKind.USER, user.id) if user is not None else None,
            audit.Actor.user(user.id) if known and user is not None else ANONYMOUS,
        )

    def refuse_if_locked(self) -> None:
        until = self.guard.throttle.locked_until(self.session, self.checks)
        if until is not None:
            self.record(AuditTag.LOGIN_LOCKED, {"until": until.isoformat()})
            raise LoginRefusedError(Refusal.LOCKED, until)

    def fail(self, tag: AuditTag, reason: str) -> NoReturn:
        self.guard.throttle.failed(self.session, self.checks)
        self.record(tag, {"reason": reason})
        until = self.guard.throttle.locked_until(self.session, self.checks)
        if until is not None:  # this failure was one too many: say so now
            self.record(AuditTag.LOGIN_LOCKED, {"until": until.isoformat()})
            raise LoginRefusedError(Refusal.LOCKED, until)
        raise LoginRefusedError(Refusal.INVALID)

    def record(self, tag: AuditTag, details: dict[str, object]) -> None:
        audit.record(
            self.session,
            tag,
            actor=self.actor,
            target=self.target,
            details={**details, "client": self.guard.client},
            clock=self.guard.clock,
        )


def check_password(session: Session, guard: Guard, *, email: str, password: str) -> User:
    """Step one.  Returns the user, or raises LoginRefusedError (failures are recorded)."""
    user = users.find_user(session, email)
    attempt = _Attempt.of(session, guard, email, user, known=False)
    attempt.refuse_if_locked()
    stored = user.password_hash if user is not None and user.is_active else None
    # Always one argon2 verification, whether or not there is a hash to verify against.
    matches = verify_secret(stored or _dummy_hash(), password)
    if user is None or stored is None or not matches:
        attempt.fail(AuditTag.LOGIN_FAILED, _why(user))
    if needs_rehash(stored):
        user.password_hash = hash_secret(password)
    if user.totp_enabled_at is None or user.totp_secret is None:
        attempt.record(AuditTag.LOGIN_FAILED, {"reason": "not_enrolled"})
        raise LoginRefusedError(Refusal.NOT_ENROLLED)
    return user


def _why(user: User | None) -> str:
    """The reason recorded in the audit trail (never shown to the person logging in)."""
    if user is None:
        return "unknown_account"
    if not user.is_active:
        return "inactive"
    if user.password_hash is None:
        return "not_enrolled"
    return "wrong_password"


def check_second_factor(
    session: Session, guard: Guard, user: User, code: str, *, cipher: FieldCipher
) -> SecondFactor:
    """Step two: a TOTP code (once only) or an unused recovery code."""
    attempt = _Attempt.of(session, guard, user.email, user, known=True)
    attempt.refuse_if_locked()
    if user.totp_secret is None or not user.is_active:
        attempt.fail(AuditTag.SECOND_FACTOR_FAILED, "not_enrolled")
    if totp.looks_like_code(code):
        secret = totp.unseal(cipher, user.totp_secret)
        step = totp.accepted_step(secret, code, now=guard.clock(), last_step=user.totp_last_step)
        if step is None:
            attempt.fail(AuditTag.SECOND_FACTOR_FAILED, "wrong_totp")
        user.totp_last_step = step
        return SecondFactor.TOTP
    if not recovery_codes.use(session, user, code, clock=guard.clock):
        attempt.fail(AuditTag.SECOND_FACTOR_FAILED, "wrong_code")
    remaining = recovery_codes.remaining(session, user.id)
    attempt.record(AuditTag.RECOVERY_CODE_USED, {"remaining": remaining})
    return SecondFactor.RECOVERY_CODE


def succeeded(session: Session, guard: Guard, user: User, method: SecondFactor) -> None:
    """Both steps passed: forget the account's failures and record the login."""
    attempt = _Attempt.of(session, guard, user.email, user, known=True)
    guard.throttle.cleared(session, attempt.checks[0])
    user.last_login_at = guard.clock()
    attempt.record(AuditTag.LOGIN_SUCCEEDED, {"second_factor": method.value})


def confirm_password(session: Session, guard: Guard, user: User, password: str) -> bool:
    """A logged-in user re-enters their password (to change it, say); failures count."""
    attempt = _Attempt.of(session, guard, user.email, user, known=True)
    if guard.throttle.locked_until(session, attempt.checks) is not None:
        return False
    if user.password_hash is not None and verify_secret(user.password_hash, password):
        return True
    guard.throttle.failed(session, attempt.checks)
    attempt.record(AuditTag.LOGIN_FAILED, {"reason": "reauthentication"})
    return False
