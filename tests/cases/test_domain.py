import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.cases.domain import (
    ALPHABET,
    CASE_MACHINE,
    CaseStatus,
    InvalidCaseNumberError,
    check_case_transition,
    new_case_number,
    parse_case_number,
)
from reclaim.domain.states import IllegalTransitionError


def test_case_numbers_have_the_documented_shape() -> None:
    for _ in range(200):
        number = new_case_number()
        assert parse_case_number(number) == number
        assert len(number) == 12
        assert set(number[3:7] + number[8:]) <= set(ALPHABET)


def test_case_numbers_typed_carelessly_still_parse() -> None:
    assert parse_case_number(" rc 7k2m 9qxd ") == "RC-7K2M-9QXD"
    assert parse_case_number("7K2M9QXD") == "RC-7K2M-9QXD"
    assert parse_case_number("RC-7KZM-9QXD") == "RC-7K2M-9QXD"  # Z read as 2


@pytest.mark.parametrize("text", ["", "RC-", "RC-7K2M-9QX", "RC-0000-0000", "RC-7K2M-9QXD-1"])
def test_malformed_case_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidCaseNumberError):
        parse_case_number(text)


@given(st.sampled_from(list(CaseStatus)), st.sampled_from(list(CaseStatus)))
def test_the_state_machine_allows_exactly_its_table(
    current: CaseStatus, requested: CaseStatus
) -> None:
    if requested in CASE_MACHINE.transitions[current]:
        assert check_case_transition(current, requested) is requested
    else:
        with pytest.raises(IllegalTransitionError):
            check_case_transition(current, requested)


def test_closed_cases_only_reopen_into_review() -> None:
    for status in CaseStatus:
        if not status.is_open:
            assert CASE_MACHINE.transitions[status] == {CaseStatus.IN_REVIEW}
    with pytest.raises(IllegalTransitionError, match="resolved"):
        check_case_transition(CaseStatus.RESOLVED, CaseStatus.ACTIONED)
