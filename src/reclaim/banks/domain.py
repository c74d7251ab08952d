"""Hash banks: what kind of picture a banked signal is of, and who vouches for it.

Banks are named lists a platform can take whole (one HMA exchange per bank).  Hashes of
pictures an analyst *saw* (or that matched an entry someone saw) go into the verified
bank of their category; what platforms must do with them differs by law, so the
categories are never mixed in one verified bank.  Hashes nobody at the hotline saw are
never verified: those computed on reporters' own devices stay in ``self-reported``, and
those an analyst decided without seeing go into ``unverified`` until someone looks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Category(enum.StrEnum):
    """What a banked signal is a hash of (the feed and every export carry it)."""

    CSAM = "csam"  # sexual abuse material of a child
    SELF_GENERATED_MINOR = "self_generated_minor"  # a minor's self-generated intimate image
    ADULT_NCII = "adult_ncii"  # an adult's intimate image shared without consent
    SEXTORTION = "sextortion"  # part of a sextortion threat
    UNKNOWN = "unknown"  # not decided (self-reported, or imported without a category)

    @property
    def involves_minor(self) -> bool:
        return self in (Category.CSAM, Category.SELF_GENERATED_MINOR)


class EntrySource(enum.StrEnum):
    REPORT = "report"  # a reporter's device
    DECISION = "decision"  # an analyst's decision on a case's media
    IMPORT = "import"  # a list from elsewhere (another hotline, a partner)


class HoldReason(enum.StrEnum):
    """Why the flood guard held a self-reported hash out of the feed."""

    MANY_MATCHES = "many_matches"  # many partners' uploads matched it
    NOT_VIOLATING = "not_violating"  # partners said what matched was not violating


class HoldOutcome(enum.StrEnum):
    """What an analyst decided about a held hash."""

    RESTORED = "restored"  # back into the feed
    BENIGN = "benign"  # harmless: stays out, onto the allow list


@dataclass(frozen=True, slots=True)
class BuiltinBank:
    name: str
    description: str
    verified: bool
    category: Category | None  # None: entries carry their own


SELF_REPORTED_BANK = "self-reported"
UNVERIFIED_BANK = "unverified"
#: The verified bank of each decided category.
VERIFIED_BANKS: dict[Category, str] = {
    Category.CSAM: "csam",
    Category.SELF_GENERATED_MINOR: "minor-self-generated",
    Category.ADULT_NCII: "adult-ncii",
    Category.SEXTORTION: "sextortion",
}

BUILTIN_BANKS: dict[str, BuiltinBank] = {
    bank.name: bank
    for bank in (
        BuiltinBank(
            SELF_REPORTED_BANK,
            "Hashes computed on reporters' own devices; nobody at the hotline has seen "
            "these pictures (unverified)",
            verified=False,
            category=None,
        ),
        BuiltinBank(
            UNVERIFIED_BANK,
            "Hashes of pictures an analyst decided on without seeing them (unverified; "
            "they move to their category's bank once someone looks)",
            verified=False,
            category=None,
        ),
        BuiltinBank(
            VERIFIED_BANKS[Category.CSAM],
            "Child sexual abuse material, seen by a hotline analyst (verified)",
            verified=True,
            category=Category.CSAM,
        ),
        BuiltinBank(
            VERIFIED_BANKS[Category.SELF_GENERATED_MINOR],
            "Minors' self-generated intimate images, seen by a hotline analyst (verified)",
            verified=True,
            category=Category.SELF_GENERATED_MINOR,
        ),
        BuiltinBank(
            VERIFIED_BANKS[Category.ADULT_NCII],
            "Adults' intimate images shared without consent, seen by a hotline analyst (verified)",
            verified=True,
            category=Category.ADULT_NCII,
        ),
        BuiltinBank(
            VERIFIED_BANKS[Category.SEXTORTION],
            "Pictures that are part of a sextortion threat, seen by a hotline analyst (verified)",
            verified=True,
            category=Category.SEXTORTION,
        ),
    )
}
