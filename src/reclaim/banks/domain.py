"""Hash banks: where a banked signal came from."""

from __future__ import annotations

import enum

#: Built-in banks.  Hashes computed on victims' own devices are unverified until an
#: analyst confirms them; confirmed hashes come from analysts' decisions.
SELF_REPORTED_BANK = "self-reported"
CONFIRMED_BANK = "confirmed"
BUILTIN_BANKS = {
    SELF_REPORTED_BANK: "Hashes computed on reporters' own devices (not verified by an analyst)",
    CONFIRMED_BANK: "Hashes of items an analyst confirmed",
}


class EntrySource(enum.StrEnum):
    REPORT = "report"  # a reporter's device
    DECISION = "decision"  # an analyst's decision on a case item
    IMPORT = "import"  # a list from elsewhere (another hotline, a partner)
