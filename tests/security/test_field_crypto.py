from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from reclaim.fetching.quarantine.keys import Keyring
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError, Purpose, field_cipher
from tests.support.settings import make_settings


def key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def cipher(current: str, keys: dict[str, str]) -> FieldCipher:
    return FieldCipher(Keyring.from_base64(current, keys))


def test_round_trip_with_unicode() -> None:
    c = cipher("k1", {"k1": key()})
    stored = c.encrypt("LINE: 小明_0912", purpose=Purpose.REPORT_CONTACT)
    assert stored.startswith("v1.k1.")
    assert "小明" not in stored
    assert c.decrypt(stored, purpose=Purpose.REPORT_CONTACT) == "LINE: 小明_0912"


def test_every_encryption_uses_a_fresh_nonce() -> None:
    c = cipher("k1", {"k1": key()})
    assert c.encrypt("same", purpose=Purpose.CASE_NOTE) != c.encrypt(
        "same", purpose=Purpose.CASE_NOTE
    )


def test_a_value_moved_to_another_column_does_not_decrypt() -> None:
    c = cipher("k1", {"k1": key()})
    stored = c.encrypt("JBSWY3DPEHPK3PXP", purpose=Purpose.USER_TOTP)
    with pytest.raises(FieldDecryptionError):
        c.decrypt(stored, purpose=Purpose.REPORT_CONTACT)


def test_an_altered_value_does_not_decrypt() -> None:
    c = cipher("k1", {"k1": key()})
    head, body = c.encrypt("secret", purpose=Purpose.CASE_NOTE).rsplit(".", 1)
    # First, middle and next-to-last characters (the last may carry only padding bits).
    for index in (0, len(body) // 2, len(body) - 2):
        flipped = "A" if body[index] != "A" else "B"
        altered = body[:index] + flipped + body[index + 1 :]
        with pytest.raises(FieldDecryptionError):
            c.decrypt(f"{head}.{altered}", purpose=Purpose.CASE_NOTE)


@pytest.mark.parametrize(
    "stored", ["", "plain text", "v1.k1", "v2.k1.AAAA", "v1.nokey.AAAA", "v1.k1.é", "v1.k1.A"]
)
def test_malformed_values_are_refused_cleanly(stored: str) -> None:
    with pytest.raises(FieldDecryptionError):
        cipher("k1", {"k1": key()}).decrypt(stored, purpose=Purpose.CASE_NOTE)


def test_rotation_keeps_old_values_readable() -> None:
    old_key, new_key = key(), key()
    before = cipher("2025", {"2025": old_key}).encrypt("old secret", purpose=Purpose.CASE_NOTE)
    rotated = cipher("2026", {"2025": old_key, "2026": new_key})
    assert rotated.decrypt(before, purpose=Purpose.CASE_NOTE) == "old secret"
    assert rotated.encrypt("new", purpose=Purpose.CASE_NOTE).startswith("v1.2026.")
    with pytest.raises(FieldDecryptionError):
        cipher("2026", {"2026": new_key}).decrypt(before, purpose=Purpose.CASE_NOTE)


def test_key_ids_with_dots_work() -> None:
    """Key ids may contain dots (e.g. ``2026.1``); the stored form must still parse."""
    c = cipher("2026.1", {"2026.1": key()})
    stored = c.encrypt("value", purpose=Purpose.CASE_NOTE)
    assert stored.startswith("v1.2026.1.")
    assert c.decrypt(stored, purpose=Purpose.CASE_NOTE) == "value"


def test_the_cipher_comes_from_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    c = field_cipher(settings)
    assert c.decrypt(c.encrypt("x", purpose=Purpose.CASE_NOTE), purpose=Purpose.CASE_NOTE) == "x"
    assert c.encrypt("x", purpose=Purpose.CASE_NOTE).startswith(
        f"v1.{settings.quarantine_current_key_id}."
    )
