"""The hotline's Ed25519 signing keyring: sign with the current key, verify with the
public ones, rotate without breaking what older keys signed."""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

import pytest

from reclaim.security.signing import (
    Signature,
    SignatureError,
    SigningKeyError,
    SigningKeyring,
    load_public_key,
    new_seed_text,
    public_key_pem,
    public_key_text,
    signing_keyring,
    verify,
)
from tests.support.settings import make_settings


def seed() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_a_signature_verifies_with_the_public_key_and_names_its_key() -> None:
    ring = SigningKeyring.from_base64("2026", {"2026": seed()})
    signature = ring.sign(b"case RC-7K2M-9QXD")
    assert signature.key_id == "2026" and len(signature.value) == 64
    verify(ring.public_keys(), b"case RC-7K2M-9QXD", signature)
    with pytest.raises(SignatureError, match="does not match"):
        verify(ring.public_keys(), b"case RC-7K2M-9QXE", signature)


def test_rotation_keeps_old_signatures_valid() -> None:
    old, new = seed(), seed()
    before = SigningKeyring.from_base64("2025", {"2025": old}).sign(b"receipt")
    rotated = SigningKeyring.from_base64("2026", {"2025": old, "2026": new})
    assert rotated.sign(b"next").key_id == "2026"
    verify(rotated.public_keys(), b"receipt", before)
    with pytest.raises(SignatureError, match="no public key"):
        verify(SigningKeyring.from_base64("2026", {"2026": new}).public_keys(), b"receipt", before)


def test_signatures_travel_as_json_and_public_keys_as_text() -> None:
    ring = SigningKeyring.from_base64("k", {"k": new_seed_text()})
    signature = ring.sign(b"payload")
    again = Signature.from_json(signature.to_json())
    assert again == signature
    public = ring.public_keys()["k"]
    for text in (public_key_text(public), public_key_pem(public)):
        verify({"k": load_public_key(text)}, b"payload", again)
    with pytest.raises(SignatureError):
        Signature.from_json({"algorithm": "rsa", "key_id": "k", "signature": "AA=="})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"x" * 31).decode(), "31 bytes"),
        (base64.b64encode(bytes(32)).decode(), "placeholder"),
    ],
)
def test_malformed_keys_are_refused_without_echoing_them(text: str, message: str) -> None:
    with pytest.raises(SigningKeyError, match=message) as caught:
        SigningKeyring.from_base64("k", {"k": text})
    assert text not in str(caught.value)


def test_the_settings_build_the_keyring(tmp_path: Path) -> None:
    ring = signing_keyring(make_settings(tmp_path))
    assert ring.current_key_id == "s1"


def test_openssl_alone_can_check_a_signature(tmp_path: Path) -> None:
    """What an agency without Reclaim does: the PEM public key and `openssl pkeyutl`."""
    ring = SigningKeyring.from_base64("k", {"k": seed()})
    payload = b'{"case":"RC-7K2M-9QXD"}'
    (tmp_path / "payload").write_bytes(payload)
    (tmp_path / "sig").write_bytes(ring.sign(payload).value)
    (tmp_path / "key.pem").write_text(public_key_pem(ring.public_keys()["k"]))
    command = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "key.pem"),
        "-rawin", "-in", str(tmp_path / "payload"), "-sigfile", str(tmp_path / "sig"),
    ]  # fmt: skip
    good = subprocess.run(command, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    (tmp_path / "payload").write_bytes(payload + b" ")
    bad = subprocess.run(command, capture_output=True, text=True, check=False)
    assert bad.returncode != 0
