"""Cases, reports and items: the reporter's answers and the case state machine."""

from __future__ import annotations

import enum
from collections.abc import Mapping


class ReporterRole(enum.StrEnum):
    """Who is reporting."""

    SELF = "self"  # the person in the image
    GUARDIAN = "guardian"  # a parent or guardian
    PROFESSIONAL = "professional"  # a teacher or social worker
    OTHER = "other"


class AgeGroup(enum.StrEnum):
    """How old the person was when the image was taken."""

    UNDER_18 = "under_18"
    ADULT = "adult"
    UNSURE = "unsure"


class Situation(enum.StrEnum):
    """What is happening."""

    ONLINE = "online"  # images are online
    THREAT = "threat"  # someone threatens to share them
    BOTH = "both"

    @property
    def is_threat(self) -> bool:
        return self in (Situation.THREAT, Situation.BOTH)


class ItemKind(enum.StrEnum):
    URL = "url"
    FILE = "file"  # a file hashed on the reporter's device; only its hashes are here


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class CaseStatus(enum.StrEnum):
    NEW = "new"
    IN_REVIEW = "in_review"
    ACTIONED = "actioned"
    AWAITING_REMOVAL = "awaiting_removal"
    RESOLVED = "resolved"
    NOT_ACTIONABLE = "not_actionable"
    WITHDRAWN = "withdrawn"

    @property
    def is_open(self) -> bool:
        return self not in _CLOSED


_CLOSED = frozenset({CaseStatus.RESOLVED, CaseStatus.NOT_ACTIONABLE, CaseStatus.WITHDRAWN})

#: The allowed moves.  A closed case can be reopened into review (new information
#: arrives, or content comes back), never straight into a later state.
CASE_TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset(
        {CaseStatus.IN_REVIEW, CaseStatus.NOT_ACTIONABLE, CaseStatus.WITHDRAWN}
    ),
    CaseStatus.IN_REVIEW: frozenset(
        {CaseStatus.ACTIONED, CaseStatus.NOT_ACTIONABLE, CaseStatus.WITHDRAWN, CaseStatus.NEW}
    ),
    CaseStatus.ACTIONED: frozenset(
        {CaseStatus.AWAITING_REMOVAL, CaseStatus.RESOLVED, CaseStatus.IN_REVIEW}
    ),
    CaseStatus.AWAITING_REMOVAL: frozenset(
        {CaseStatus.RESOLVED, CaseStatus.IN_REVIEW, CaseStatus.WITHDRAWN}
    ),
    CaseStatus.RESOLVED: frozenset({CaseStatus.IN_REVIEW}),
    CaseStatus.NOT_ACTIONABLE: frozenset({CaseStatus.IN_REVIEW}),
    CaseStatus.WITHDRAWN: frozenset({CaseStatus.IN_REVIEW}),
}


class IllegalTransitionError(ValueError):
    """A status change the state machine does not allow."""

    def __init__(self, current: enum.Enum, requested: enum.Enum) -> None:
        super().__init__(f"cannot move from {current.value!r} to {requested.value!r}")
        self.current = current
        self.requested = requested


def check_case_transition(current: CaseStatus, requested: CaseStatus) -> CaseStatus:
    """Return ``requested`` if the move is allowed, else raise IllegalTransitionError."""
    if requested not in CASE_TRANSITIONS[current]:
        raise IllegalTransitionError(current, requested)
    return requested
