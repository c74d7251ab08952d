"""Case numbers a frightened person can read out over the phone: ``RC-7K2M-9QXD``.

The alphabet leaves out characters that are easy to confuse (0 and O, 1 and I and L,
S, B, Z, U), so a number copied by hand still works; input is normalised (case,
spaces, dashes, and the letters S/B/Z/U read as 5/8/2/V) before lookup.
"""

from __future__ import annotations

import re
import secrets

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
