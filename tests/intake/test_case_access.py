"""Check my case: the PIN check, the same answer for unknown cases, and the lockouts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.config import Settings
from reclaim.intake.case_access import AccessPolicy, CaseCheck, Outcome, check_case
from reclaim.intake.submission import Receipt, submit_report
from reclaim.security.field_crypto import field_cipher
from reclaim.security.secret_hashes import verify_secret
from reclaim.security.throttle import Throttle
from tests.support.clock import FakeClock
from tests.support.intake import a_policy, a_report
from tests.support.settings import make_settings


class CountingVerify:
    """verify_secret, counting its calls (each is one argon2 verification)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, stored: str, candidate: str) -> bool:
        self.calls += 1
        return verify_secret(stored, candidate)


@pytest.fixture
def policy(tmp_path) -> AccessPolicy:  # type: ignore[no-untyped-def]
    return AccessPolicy.from_settings(
        make_settings(tmp_path, pin_max_failures_per_case=3, pin_max_failures_per_client=5)
    )


@pytest.fixture
def receipt(session: Session, settings: Settings) -> Receipt:
    made = submit_report(session, a_report(), policy=a_policy(), cipher=field_cipher(settings))
    session.commit()
    return made


@pytest.fixture
def check(session: Session, policy: AccessPolicy, clock: FakeClock) -> Callable[..., CaseCheck]:
    throttle = Throttle(b"throttle-secret", clock=clock)

    def attempt(
        number: str, pin: str, client: str = "198.51.100.7", **options: object
    ) -> CaseCheck:
        result = check_case(
            session, number, pin, client=client, policy=policy, throttle=throttle, **options
        )  # type: ignore[arg-type]
        session.commit()
        return result

    return attempt


def test_the_right_pin_opens_the_case(check: Callable[..., CaseCheck], receipt: Receipt) -> None:
    result = check(receipt.case_number, receipt.pin)
    assert result.outcome is Outcome.GRANTED
    assert result.case is not None and result.case.number == receipt.case_number


def test_case_numbers_and_pins_are_read_forgivingly(
    check: Callable[..., CaseCheck], receipt: Receipt
) -> None:
    assert receipt.pin is not None
    typed = receipt.case_number.lower().replace("-", " ")
    pin = f"{receipt.pin[:4]} {receipt.pin[4:]}"
    assert check(typed, pin).outcome is Outcome.GRANTED


@pytest.mark.parametrize("which", ["wrong pin", "unknown case", "malformed number"])
def test_every_refusal_is_the_same_and_costs_one_verification(
    check: Callable[..., CaseCheck], receipt: Receipt, which: str
) -> None:
    number, pin = {
        "wrong pin": (receipt.case_number, "00000000"),
        "unknown case": ("RC-2222-2222", receipt.pin),
        "malformed number": ("not a case", receipt.pin),
    }[which]
    verify = CountingVerify()

    result = check(number, pin, verify=verify)

    assert result == CaseCheck(Outcome.REFUSED)
    assert verify.calls == 1


def test_a_case_locks_after_too_many_wrong_pins(
    check: Callable[..., CaseCheck], receipt: Receipt, session: Session, clock: FakeClock
) -> None:
    for _ in range(2):
        assert check(receipt.case_number, "11111111").outcome is Outcome.REFUSED
    locking = check(receipt.case_number, "11111111")
    assert locking.outcome is Outcome.LOCKED
    assert locking.locked_until == clock.now + timedelta(minutes=15)

    # Now even the right PIN is refused, from any client, until the window has passed.
    verify = CountingVerify()
    later = check(receipt.case_number, receipt.pin, client="203.0.113.9", verify=verify)
    assert later.outcome is Outcome.LOCKED
    assert verify.calls == 0
    locks = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.CASE_CHECK_LOCKED.value)
    ).all()
    assert len(locks) == 1 and locks[0].target_id is not None

    clock.now += timedelta(minutes=15, seconds=1)
    assert check(receipt.case_number, receipt.pin).outcome is Outcome.GRANTED


def test_unknown_case_numbers_lock_the_same_way(check: Callable[..., CaseCheck]) -> None:
    outcomes = [check("RC-3333-3333", "12345678").outcome for _ in range(4)]
    assert outcomes == [Outcome.REFUSED, Outcome.REFUSED, Outcome.LOCKED, Outcome.LOCKED]


def test_a_client_locks_after_too_many_failures_on_any_cases(
    check: Callable[..., CaseCheck], receipt: Receipt
) -> None:
    numbers = ["RC-4444-4444", "RC-5555-5555", "RC-6666-6666", "RC-7777-7777"]
    assert [check(n, "12345678").outcome for n in numbers] == [Outcome.REFUSED] * 4
    assert check("RC-8888-8888", "12345678").outcome is Outcome.LOCKED

    assert check(receipt.case_number, receipt.pin).outcome is Outcome.LOCKED
    other_client = check(receipt.case_number, receipt.pin, client="192.0.2.1")
    assert other_client.outcome is Outcome.GRANTED


def test_success_forgets_the_case_failures(
    check: Callable[..., CaseCheck], receipt: Receipt
) -> None:
    check(receipt.case_number, "11111111")
    check(receipt.case_number, "11111111")
    assert check(receipt.case_number, receipt.pin).outcome is Outcome.GRANTED
    check(receipt.case_number, "11111111")
    assert check(receipt.case_number, "11111111").outcome is Outcome.REFUSED
