"""Quarantine keys: a keyring of AES-256 keys named by key id.

New objects are always encrypted with the *current* key; older keys stay in the
keyring only to decrypt what they encrypted, so a key can be rotated without
re-encrypting everything at once (``QuarantineStore.reencrypt`` does it per object).
Keys arrive from settings as base64 text (standard or URL-safe alphabet, padding
optional) and are validated here, once.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class QuarantineKeyError(ValueError):
    """A quarantine key or key id in the settings is malformed."""


def parse_key(text: str, *, key_id: str = "?") -> bytes:
    """Decode a base64 (standard or URL-safe) 32-byte key; never echoes key material."""
    compact = "".join(text.split())
    if "-" in compact or "_" in compact:
        compact = compact.replace("-", "+").replace("_", "/")
    compact += "=" * (-len(compact) % 4)
    try:
        key = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise QuarantineKeyError(
            f"quarantine key {key_id!r} is not valid base64 "
            "(generate one with `python -c 'import os, base64; "
            "print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`)"
        ) from None
    if len(key) != KEY_BYTES:
        raise QuarantineKeyError(
            f"quarantine key {key_id!r} decodes to {len(key)} bytes; "
            f"AES-256 keys are exactly {KEY_BYTES} bytes"
        )
    if len(set(key)) == 1:
        raise QuarantineKeyError(f"quarantine key {key_id!r} is a placeholder (one repeated byte)")
    return key


def check_key_id(key_id: str) -> str:
    if not _KEY_ID.fullmatch(key_id):
        raise QuarantineKeyError(
            f"quarantine key id {key_id!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    return key_id


@dataclass(frozen=True, slots=True)
class Keyring:
    """The current key id and every key (current and older) by id."""

    current_key_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        for key_id, key in self.keys.items():
            check_key_id(key_id)
            if len(key) != KEY_BYTES:
                raise QuarantineKeyError(f"quarantine key {key_id!r} is not {KEY_BYTES} bytes")
        if self.current_key_id not in self.keys:
            raise QuarantineKeyError(
                f"the current quarantine key id {self.current_key_id!r} is not in the keyring "
                f"(known ids: {', '.join(sorted(self.keys)) or 'none'})"
            )
        # Freeze a private copy so later changes to the caller's dict cannot swap keys.
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def from_base64(cls, current_key_id: str, keys: Mapping[str, str]) -> Keyring:
        """Build from settings: ``{"2025-01": "base64...", "2024-07": "base64..."}``."""
        return cls(
            current_key_id,
            {check_key_id(kid): parse_key(text, key_id=kid) for kid, text in keys.items()},
        )

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_key_id]
