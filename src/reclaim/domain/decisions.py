"""Analysts' decisions on case items."""

from __future__ import annotations

import enum


class Classification(enum.StrEnum):
    """What an analyst decided an item is."""

    CSAM = "csam"  # child sexual abuse material
    SELF_GENERATED_MINOR = "self_generated_minor"  # intimate image of a minor, self-generated
    ADULT_NCII = "adult_ncii"  # adult intimate image shared without consent
    SEXTORTION_THREAT = "sextortion_threat"  # a threat, no content yet
    NOT_ACTIONABLE = "not_actionable"  # with a reason
    NEEDS_INFORMATION = "needs_information"

    @property
    def is_confirming(self) -> bool:
        """Does this decision put the item's signals into the confirmed bank?"""
        return self in _CONFIRMING

    @property
    def involves_minor(self) -> bool:
        return self in (Classification.CSAM, Classification.SELF_GENERATED_MINOR)


_CONFIRMING = frozenset(
    {Classification.CSAM, Classification.SELF_GENERATED_MINOR, Classification.ADULT_NCII}
)


class DecisionStatus(enum.StrEnum):
    """A confirming decision may wait for a second analyst's agreement (a setting)."""

    RECORDED = "recorded"  # in force
    AWAITING_SECOND = "awaiting_second"  # a second analyst must agree before it is in force
    SUPERSEDED = "superseded"  # a later decision on the same item replaced it
