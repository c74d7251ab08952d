"""Signals: the hashes Reclaim banks, matches and shares.

A signal only exists once its text parsed (validate at the boundary, then trust the
types).  Values are kept in their canonical form: lower-case hexadecimal.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class SignalType(enum.StrEnum):
    """The kinds of hash Reclaim handles, named as python-threatexchange names them."""

    PDQ = "pdq"
    MD5 = "md5"
    SHA256 = "sha256"
    #: A video's vPDQ frame list.  The value is the list's fingerprint (SHA-256 of its
    #: compact form, see ``reclaim.matching.video``); the frames sit beside the signal.
    VPDQ = "vpdq"

    @property
    def hex_length(self) -> int:
        return _HEX_LENGTHS[self]


_HEX_LENGTHS = {
    SignalType.PDQ: 64,
    SignalType.MD5: 32,
    SignalType.SHA256: 64,
    SignalType.VPDQ: 64,
}
_HEX = re.compile(r"[0-9a-f]+")


class InvalidSignalError(ValueError):
    """A hash string that is not a well-formed value of its signal type."""


@dataclass(frozen=True, slots=True, order=True)
class Signal:
    """One hash: its type and its canonical lower-case hex value."""

    type: SignalType
    value: str

    @classmethod
    def parse(cls, signal_type: str, value: str) -> Signal:
        try:
            kind = SignalType(signal_type.strip().lower())
        except ValueError:
            known = ", ".join(t.value for t in SignalType)
            raise InvalidSignalError(
                f"unknown signal type {signal_type!r} (known: {known})"
            ) from None
        text = value.strip().lower()
        if len(text) != kind.hex_length or not _HEX.fullmatch(text):
            raise InvalidSignalError(
                f"a {kind.value} hash is {kind.hex_length} hexadecimal characters; "
                f"got {value[:80]!r}"
            )
        return cls(kind, text)

    def to_bytes(self) -> bytes:
        return bytes.fromhex(self.value)

    def __str__(self) -> str:
        return f"{self.type.value} {self.value}"


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hashes given as 64 hex characters."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
