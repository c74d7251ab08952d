"""Encryption of sensitive database fields: reporters' contacts, TOTP seeds, notes.

AES-256-GCM with the quarantine keyring (so one key rotation covers both), a fresh
96-bit nonce per value, and the field's purpose as associated data, so a value copied
from one column to another fails to decrypt.  Stored form:
``v1.<key id>.<base64url(nonce + ciphertext)>``.
"""

from __future__ import annotations

import base64
import enum
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from reclaim.config import Settings
from reclaim.fetching.quarantine.keys import Keyring

_PREFIX = "v1"
_NONCE_BYTES = 12


class Purpose(enum.StrEnum):
    """What an encrypted field holds.  The value is the associated data of every
    ciphertext, so a value moved to another column (another purpose) fails to decrypt.
    Closed: a new kind of encrypted field adds a member here."""

    REPORT_CONTACT = "report.contact"
    REPORT_THREAT_ACCOUNT = "report.threat_account"
    REPORT_DESCRIPTION = "report.description"
    CASE_NOTE = "case.note"
    USER_TOTP = "user.totp"
    WEBHOOK_SECRET = "platform.webhook_secret"  # noqa: S105 - a label, not a secret
    OFFENDER_IDENTIFIER = "linkage.identifier"


class FieldDecryptionError(ValueError):
    """A stored value could not be decrypted (wrong key, wrong purpose, or altered)."""


class FieldCipher:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def encrypt(self, plaintext: str, *, purpose: Purpose) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(self._keyring.current_key).encrypt(
            nonce, plaintext.encode("utf-8"), Purpose(purpose).value.encode()
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{_PREFIX}.{self._keyring.current_key_id}.{body}"

    def decrypt(self, stored: str, *, purpose: Purpose) -> str:
        # Key ids may contain dots; the base64url body never does, so split from the right.
        head, _, body = stored.rpartition(".")
        prefix, _, key_id = head.partition(".")
        if not body or not key_id:
            raise FieldDecryptionError("not an encrypted field value")
        key = self._keyring.keys.get(key_id)
        if prefix != _PREFIX or key is None:
            raise FieldDecryptionError(f"unknown format or key id {key_id!r}")
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = AESGCM(key).decrypt(
                blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], Purpose(purpose).value.encode()
            )
        except (InvalidTag, ValueError):
            raise FieldDecryptionError("the value was altered or belongs elsewhere") from None
        return plain.decode("utf-8")


def keyring(settings: Settings) -> Keyring:
    """The configured keyring, shared by the field cipher and the quarantine store."""
    return Keyring.from_base64(
        settings.quarantine_current_key_id,
        {kid: key.get_secret_value() for kid, key in settings.quarantine_keys.items()},
    )


def field_cipher(settings: Settings) -> FieldCipher:
    """The cipher for the configured keyring."""
    return FieldCipher(keyring(settings))
