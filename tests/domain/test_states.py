"""The state machine type every status uses."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.domain.states import IllegalTransitionError, StateMachine


class Light(enum.Enum):
    RED = "red"
    GREEN = "green"
    AMBER = "amber"
    BROKEN = "broken"


MACHINE = StateMachine(
    Light,
    {
        Light.RED: frozenset({Light.GREEN, Light.BROKEN}),
        Light.GREEN: frozenset({Light.AMBER, Light.BROKEN}),
        Light.AMBER: frozenset({Light.RED, Light.BROKEN}),
        Light.BROKEN: frozenset(),
    },
)


@given(st.sampled_from(Light), st.sampled_from(Light))
def test_check_allows_exactly_the_listed_moves(current: Light, requested: Light) -> None:
    if requested in MACHINE.transitions[current]:
        assert MACHINE.check(current, requested) is requested
        assert MACHINE.allows(current, requested)
    else:
        assert not MACHINE.allows(current, requested)
        with pytest.raises(IllegalTransitionError) as caught:
            MACHINE.check(current, requested)
        assert (caught.value.current, caught.value.requested) == (current, requested)
        assert current.value in str(caught.value) and requested.value in str(caught.value)


def test_terminal_states_are_those_without_a_way_out() -> None:
    assert MACHINE.terminal == {Light.BROKEN}
    assert MACHINE.reachable_from(Light.RED) == set(Light)
    assert MACHINE.reachable_from(Light.BROKEN) == {Light.BROKEN}


def test_a_table_that_forgets_a_member_is_refused() -> None:
    with pytest.raises(ValueError, match="BROKEN"):
        StateMachine(Light, {state: frozenset() for state in Light if state is not Light.BROKEN})


def test_a_table_that_names_a_stranger_is_refused() -> None:
    class Other(enum.Enum):
        X = "x"

    table = {state: frozenset() for state in Light}
    table[Light.RED] = frozenset({Other.X})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown targets"):
        StateMachine(Light, table)
