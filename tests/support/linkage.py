"""Factories for linkage tests: the keys identifiers are stored with, a PDQ index."""

from __future__ import annotations

from reclaim.config import Settings
from reclaim.linkage.identifiers import Keys, keys_for
from reclaim.security.field_crypto import field_cipher


def linkage_keys(settings: Settings) -> Keys:
    return keys_for(field_cipher(settings), settings.secret_bytes)
