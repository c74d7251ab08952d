"""Explicit state machines: a status enum and the table of moves it allows.

Every status that changes in Reclaim (a case, a decision, a notice, a delivery) is an
enum with one :class:`StateMachine` beside it.  Code changes a status only through the
machine's :meth:`StateMachine.check`, so an illegal move raises instead of quietly
writing a status the rest of the system does not expect.  The table must name every
member (a member with no way out is terminal and says so with an empty set);
``tests/test_layout.py`` finds every ``*Status`` enum and checks that it has a machine.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S", bound=enum.Enum)


class IllegalTransitionError(ValueError):
    """A status change the state machine does not allow."""

    def __init__(self, current: enum.Enum, requested: enum.Enum) -> None:
        super().__init__(f"cannot move from {current.value!r} to {requested.value!r}")
        self.current = current
        self.requested = requested


@dataclass(frozen=True, slots=True)
class StateMachine(Generic[S]):
    """The allowed moves between the members of one status enum."""

    states: type[S]
    transitions: Mapping[S, frozenset[S]]

    def __post_init__(self) -> None:
        missing = set(self.states) - set(self.transitions)
        if missing:
            names = ", ".join(sorted(m.name for m in missing))
            raise ValueError(f"{self.states.__name__}: no transitions listed for {names}")
        stray = {t for targets in self.transitions.values() for t in targets} - set(self.states)
        if stray:
            raise ValueError(f"{self.states.__name__}: unknown targets {stray}")

    def allows(self, current: S, requested: S) -> bool:
        return requested in self.transitions[current]

    def check(self, current: S, requested: S) -> S:
        """Return ``requested`` if the move is allowed, else raise IllegalTransitionError."""
        if not self.allows(current, requested):
            raise IllegalTransitionError(current, requested)
        return requested

    @property
    def terminal(self) -> frozenset[S]:
        """States with no way out."""
        return frozenset(state for state, targets in self.transitions.items() if not targets)

    def reachable_from(self, start: S) -> frozenset[S]:
        seen = {start}
        frontier = [start]
        while frontier:
            for target in self.transitions[frontier.pop()]:
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return frozenset(seen)
