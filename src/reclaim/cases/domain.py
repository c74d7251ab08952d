"""Cases, reports, items and decisions: the reporter's answers, the analyst's
classifications, case numbers, and the case and decision state machines."""

from __future__ import annotations

import enum
import re
import secrets

from reclaim.banks.domain import Category
from reclaim.domain.states import StateMachine


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


class MediaOrigin(enum.StrEnum):
    """Where Reclaim learnt of a media object."""

    DEVICE = "device"  # hashed on the reporter's device: only its hashes exist here
    FETCHED = "fetched"  # fetched from a reported page into the quarantine


class SeenHow(enum.StrEnum):
    """How a person at the hotline saw a media object (what makes its hashes verified)."""

    PREVIEW = "preview"  # the blurred greyscale preview
    ORIGINAL = "original"  # the original, revealed


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
CASE_MACHINE = StateMachine(
    CaseStatus,
    {
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
    },
)


def check_case_transition(current: CaseStatus, requested: CaseStatus) -> CaseStatus:
    """Return ``requested`` if the move is allowed, else raise IllegalTransitionError."""
    return CASE_MACHINE.check(current, requested)


# --- decisions ------------------------------------------------------------


class Classification(enum.StrEnum):
    """What an analyst decided an item is."""

    CSAM = "csam"  # child sexual abuse material
    SELF_GENERATED_MINOR = "self_generated_minor"  # intimate image of a minor, self-generated
    SYNTHETIC_MINOR = "synthetic_minor"  # a minor's sexual image made or altered by AI
    ADULT_NCII = "adult_ncii"  # adult intimate image shared without consent
    SEXTORTION_THREAT = "sextortion_threat"  # a threat, no content yet
    GROOMING = "grooming"  # an adult's sexual approach to a child online, no image
    NOT_ACTIONABLE = "not_actionable"  # with a reason
    NEEDS_INFORMATION = "needs_information"

    @property
    def is_confirming(self) -> bool:
        """Does this decision bank the media it covers (in its category's bank)?"""
        return self in _CATEGORIES

    @property
    def involves_minor(self) -> bool:
        return self in (
            Classification.CSAM,
            Classification.SELF_GENERATED_MINOR,
            Classification.SYNTHETIC_MINOR,
            Classification.GROOMING,
        )

    @property
    def calls_for_removal(self) -> bool:
        """Does a URL decided this way need a removal notice to its platform?"""
        return self in (
            Classification.CSAM,
            Classification.SELF_GENERATED_MINOR,
            Classification.SYNTHETIC_MINOR,
            Classification.ADULT_NCII,
        )

    @property
    def targets_account(self) -> bool:
        """Is this an offender's conduct rather than content (a sextortion threat,
        grooming)?  Its URLs are the offender's profiles: the platform acts on the
        account, through an account notice, and its media are covered one by one."""
        return self in (Classification.SEXTORTION_THREAT, Classification.GROOMING)

    @property
    def calls_for_notice(self) -> bool:
        """Does a URL decided this way need a notice to its platform: a removal notice,
        or an account notice for an offender's profile?"""
        return self.calls_for_removal or self.targets_account

    @property
    def is_final(self) -> bool:
        """A decision that ends the analyst's work on the item (not "needs information")."""
        return self is not Classification.NEEDS_INFORMATION

    @property
    def category(self) -> Category | None:
        """The bank category media decided this way go into (None: nothing is banked)."""
        return _CATEGORIES.get(self)


_CATEGORIES = {
    Classification.CSAM: Category.CSAM,
    Classification.SELF_GENERATED_MINOR: Category.SELF_GENERATED_MINOR,
    # Partners remove a synthetic image of a child as they remove any other: it is
    # banked as CSAM; the decision keeps the subtype for the statistics.
    Classification.SYNTHETIC_MINOR: Category.CSAM,
    Classification.ADULT_NCII: Category.ADULT_NCII,
    Classification.SEXTORTION_THREAT: Category.SEXTORTION,
}


class DecisionStatus(enum.StrEnum):
    """A confirming decision may wait for a second analyst's agreement (a setting)."""

    RECORDED = "recorded"  # in force
    AWAITING_SECOND = "awaiting_second"  # a second analyst must agree before it is in force
    SUPERSEDED = "superseded"  # a later decision on the same item replaced it


#: A waiting decision takes effect when a second analyst agrees, or is replaced; a
#: decision in force is replaced by the next one; a replaced one stays in the history.
DECISION_MACHINE = StateMachine(
    DecisionStatus,
    {
        DecisionStatus.AWAITING_SECOND: frozenset(
            {DecisionStatus.RECORDED, DecisionStatus.SUPERSEDED}
        ),
        DecisionStatus.RECORDED: frozenset({DecisionStatus.SUPERSEDED}),
        DecisionStatus.SUPERSEDED: frozenset(),
    },
)


# --- case numbers ---------------------------------------------------------

"""Case numbers a frightened person can read out over the phone: ``RC-7K2M-9QXD``.

The alphabet leaves out characters that are easy to confuse (0 and O, 1 and I and L,
S, B, Z, U), so a number copied by hand still works; input is normalised (case,
spaces, dashes, and the letters S/B/Z/U read as 5/8/2/V) before lookup.
"""

ALPHABET = "23456789ACDEFGHJKMNPQRTVWXY"
_GROUPS = 2
_GROUP_LENGTH = 4
_LOOKALIKES = str.maketrans({"S": "5", "B": "8", "Z": "2", "U": "V"})
_PATTERN = re.compile(rf"RC-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")


class InvalidCaseNumberError(ValueError):
    pass


def new_case_number() -> str:
    groups = (
        "".join(secrets.choice(ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
    )
    return "RC-" + "-".join(groups)


def parse_case_number(text: str) -> str:
    """Normalise what a person typed into the canonical form, or raise."""
    compact = re.sub(r"[\s\-_.]", "", text.upper())
    if compact.startswith("RC"):
        compact = compact[2:]
    compact = compact.translate(_LOOKALIKES)
    if len(compact) != _GROUPS * _GROUP_LENGTH:
        raise InvalidCaseNumberError("a case number looks like RC-7K2M-9QXD")
    number = f"RC-{compact[:4]}-{compact[4:]}"
    if not _PATTERN.fullmatch(number):
        raise InvalidCaseNumberError("a case number looks like RC-7K2M-9QXD")
    return number
