"""Keyed hashes for looking up values that are stored encrypted.

An encrypted column cannot be searched (every ciphertext differs), so beside it sits
an HMAC-SHA256 of the value under the server's secret: equal values give equal digests,
and without the secret a digest cannot be reversed by trying likely values (phone
numbers, handles) as a plain hash could.  Each use names its purpose, which is part of
the hashed message, so digests of one purpose never match another's.
"""

from __future__ import annotations

import enum
import hashlib
import hmac


class LookupPurpose(enum.StrEnum):
    """What a lookup digest indexes.  Closed, like the field cipher's purposes."""

    OFFENDER_IDENTIFIER = "linkage.identifier"
    THREAT_SCRIPT_BAND = "linkage.threat_band"
    SEARCH_QUERY = "linkage.search_query"  # what the audit trail keeps of a search


class LookupHasher:
    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("a lookup hasher needs a secret")
        self._secret = secret

    def digest(self, value: str, *, purpose: LookupPurpose) -> str:
        message = LookupPurpose(purpose).value.encode() + b"\0" + value.encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()
