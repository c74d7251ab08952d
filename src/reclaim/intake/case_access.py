"""Check my case: a case number and a PIN open a case to its reporter.

A wrong PIN and an unknown case number get the same answer and take the same time:
an argon2 verification runs either way (against a dummy hash when there is no such
case), so neither the answer nor its timing tells whether a case number exists.
Failures count against the case number (existing or not) and against the client;
too many within the window lock further checks, whatever the PIN.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.cases.domain import InvalidCaseNumberError, parse_case_number
from reclaim.cases.models import Case
from reclaim.config import Settings
from reclaim.security.secret_hashes import hash_secret, verify_secret
from reclaim.security.throttle import Check, Limit, Throttle

PIN_CASE_BUCKET = "pin-case"
PIN_CLIENT_BUCKET = "pin-client"
_PIN_NOISE = re.compile(r"[\s\-]")
_MAX_KEY_TEXT = 40


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    per_case: Limit
    per_client: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessPolicy:
        window = timedelta(minutes=settings.pin_lockout_minutes)
        return cls(
            Limit(PIN_CASE_BUCKET, settings.pin_max_failures_per_case, window),
            Limit(PIN_CLIENT_BUCKET, settings.pin_max_failures_per_client, window),
        )


class Outcome(enum.Enum):
    GRANTED = "granted"
    REFUSED = "refused"  # wrong PIN or no such case: never said which
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class CaseCheck:
    outcome: Outcome
    case: Case | None = None
    locked_until: datetime | None = None


@functools.cache
def _dummy_hash() -> str:
    """An argon2 hash no PIN matches, made with the same parameters as real ones."""
    return hash_secret("not a PIN: only here to spend the same time as a real check")


def check_case(
    session: Session,
    number_text: str,
    pin: str,
    *,
    client: str,
    policy: AccessPolicy,
    throttle: Throttle,
    verify: Callable[[str, str], bool] = verify_secret,
) -> CaseCheck:
    """Open a case for its reporter, or refuse; the caller commits (failures count).

    Both are read in NFKC form: the full-width ``ＲＣ－…`` and ``１２３４`` of a Chinese
    keyboard are the same case number and PIN, not a failure towards the lockout.
    """
    number_text, pin = (
        unicodedata.normalize("NFKC", number_text),
        unicodedata.normalize("NFKC", pin),
    )
    try:
        number: str | None = parse_case_number(number_text)
    except InvalidCaseNumberError:
        number = None
    key = number or number_text.strip().upper()[:_MAX_KEY_TEXT]
    checks = [Check(policy.per_case, key), Check(policy.per_client, client)]
    until = throttle.locked_until(session, checks)
    if until is not None:
        return CaseCheck(Outcome.LOCKED, locked_until=until)

    case = session.scalar(select(Case).where(Case.number == number)) if number else None
    matches = verify(case.pin_hash if case else _dummy_hash(), _PIN_NOISE.sub("", pin))
    if case is not None and matches:
        throttle.cleared(session, checks[0])
        return CaseCheck(Outcome.GRANTED, case=case)

    throttle.failed(session, checks)
    until = throttle.locked_until(session, checks)
    if until is None:
        return CaseCheck(Outcome.REFUSED)
    audit.record(
        session,
        AuditTag.CASE_CHECK_LOCKED,
        actor=audit.SYSTEM,
        target=(TargetKind.CASE, case.id) if case else None,
        details={"until": until.isoformat(timespec="seconds")},
    )
    return CaseCheck(Outcome.LOCKED, locked_until=until)
