"""Encrypted storage for fetched content, and the blurred previews analysts see first."""

from reclaim.fetching.quarantine.keys import Keyring, QuarantineKeyError, parse_key
from reclaim.fetching.quarantine.preview import PreviewError, make_preview
from reclaim.fetching.quarantine.store import (
    QuarantinedObject,
    QuarantineEntry,
    QuarantineError,
    QuarantineIntegrityError,
    QuarantineNotFoundError,
    QuarantineStore,
    StoredObject,
    UnknownKeyError,
)

__all__ = [
    "Keyring",
    "PreviewError",
    "QuarantineEntry",
    "QuarantineError",
    "QuarantineIntegrityError",
    "QuarantineKeyError",
    "QuarantineNotFoundError",
    "QuarantineStore",
    "QuarantinedObject",
    "StoredObject",
    "UnknownKeyError",
    "make_preview",
    "parse_key",
]
