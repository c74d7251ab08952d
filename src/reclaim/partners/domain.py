"""Partners: a platform's API identity, its keys' scopes, and what it reports back.

An API key reads ``rcl_<prefix>_<secret>``.  The prefix (8 lower-case letters and
digits) is stored in clear and shown in lists, so an operator can tell keys apart and
revoke the right one; the secret (43 URL-safe characters, 256 random bits) is stored
only as a hash and shown once, when the key is made.
"""

from __future__ import annotations

import enum
import re
import secrets
import string
from dataclasses import dataclass

KEY_PREFIX = "rcl"
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 8
_KEY = re.compile(r"rcl_([a-z0-9]{8})_([A-Za-z0-9_-]{43})")


class Scope(enum.StrEnum):
    """What a key may do.  A key holds any subset of these."""

    HASHES_READ = "hashes:read"  # the hash feed and snapshot exports
    MATCH = "match"  # the match API
    FEEDBACK = "feedback"  # reporting what was done with matches and signals
    NOTICES = "notices"  # the notices inbox: read, acknowledge, resolve


class FeedbackOutcome(enum.StrEnum):
    """What a platform did about a signal or a match."""

    REMOVED = "removed"
    BLOCKED_UPLOAD = "blocked_upload"
    NOT_VIOLATING = "not_violating"
    PENDING_REVIEW = "pending_review"


@dataclass(frozen=True, slots=True)
class KeyParts:
    """A presented key, split; it exists only if the text had the key's shape."""

    prefix: str
    secret: str

    @classmethod
    def parse(cls, text: str) -> KeyParts | None:
        match = _KEY.fullmatch(text.strip())
        return cls(match.group(1), match.group(2)) if match else None

    def __str__(self) -> str:
        return f"{KEY_PREFIX}_{self.prefix}_{self.secret}"


def new_key() -> KeyParts:
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return KeyParts(prefix, secrets.token_urlsafe(32))


def display_prefix(prefix: str) -> str:
    """How a key is named in lists: ``rcl_ab12cd34_…``."""
    return f"{KEY_PREFIX}_{prefix}_…"


#: The bank (and category) of a match-volume row that counts what a partner asked,
#: across every bank it asked (``partner_match_volumes``; statistics show it first).
ALL_BANKS = ""
