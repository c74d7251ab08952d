from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from reclaim.accounts import totp
from reclaim.fetching.quarantine.keys import Keyring
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError, Purpose

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)


def code(offset_steps: int = 0) -> str:
    return str(pyotp.TOTP(SECRET).at(NOW + timedelta(seconds=30 * offset_steps)))


def test_new_secrets_are_160_random_bits_in_base32() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert secret != totp.new_secret()


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_within_one_step_are_accepted(offset: int) -> None:
    step = totp.accepted_step(SECRET, code(offset), now=NOW, last_step=None)
    assert step == totp.step_at(NOW) + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_further_away_are_not(offset: int) -> None:
    assert totp.accepted_step(SECRET, code(offset), now=NOW, last_step=None) is None


def test_a_step_is_never_accepted_twice() -> None:
    current = totp.step_at(NOW)
    assert totp.accepted_step(SECRET, code(0), now=NOW, last_step=current) is None
    # Nor an earlier one, once a later one was used.
    assert totp.accepted_step(SECRET, code(-1), now=NOW, last_step=current) is None
    assert totp.accepted_step(SECRET, code(1), now=NOW, last_step=current) == current + 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12 34 5x"])
def test_malformed_codes_are_refused(typed: str) -> None:
    assert totp.accepted_step(SECRET, typed, now=NOW, last_step=None) is None


def test_spaces_inside_a_code_are_ignored() -> None:
    typed = code()[:3] + " " + code()[3:]
    assert totp.accepted_step(SECRET, typed, now=NOW, last_step=None) is not None


def test_the_provisioning_uri_and_qr_code() -> None:
    uri = totp.provisioning_uri(SECRET, "mei.lin@staff.reclaim.test")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Reclaim:mei.lin@staff.reclaim.test"
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET] and query["issuer"] == ["Reclaim"]
    qr = totp.qr_data_uri(uri)
    assert qr.startswith("data:image/svg+xml")
    assert SECRET not in unquote(qr)  # the image holds the secret in modules, not as text


def test_secrets_are_sealed_for_their_purpose_only() -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    cipher = FieldCipher(Keyring.from_base64("k", {"k": key}))
    sealed = totp.seal(cipher, SECRET)
    assert SECRET not in sealed
    assert totp.unseal(cipher, sealed) == SECRET
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(sealed, purpose=Purpose.REPORT_CONTACT)


def test_grouped_for_reading() -> None:
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
