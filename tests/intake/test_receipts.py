"""Signed receipts: what the hotline signs is what a verifier reads back; any change,
another key, or something that is no receipt is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reclaim.intake.receipts import ReceiptError, receipt_body, sign_receipt, verify_receipt
from reclaim.security.signing import SigningKeyring, new_seed_text
from tests.support.intake import hashed_file

WHEN = datetime(2026, 12, 2, 4, 5, 6, tzinfo=UTC)


def keyring(current: str = "k1", **seeds: str) -> SigningKeyring:
    return SigningKeyring.from_base64(current, seeds or {"k1": new_seed_text()})


def a_receipt(ring: SigningKeyring) -> str:
    body = receipt_body(
        hotline="Reclaim Taiwan",
        case_number="RC-7K2M-9QXD",
        received_at=WHEN,
        files=[hashed_file("one"), hashed_file("two")],
    )
    return sign_receipt(ring, body)


def test_a_receipt_verifies_and_says_what_was_sent() -> None:
    ring = keyring()
    verified = verify_receipt(ring.public_keys(), a_receipt(ring))
    assert (verified.case_number, verified.received_at) == ("RC-7K2M-9QXD", WHEN.isoformat())
    assert [f["sha256"] for f in verified.fingerprints] == [
        hashed_file("one").sha256.value,
        hashed_file("two").sha256.value,
    ]
    assert verified.key_id == "k1" and verified.hotline == "Reclaim Taiwan"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["receipt"].update(case_number="RC-AAAA-BBBB"),
        lambda d: d["receipt"]["fingerprints"].pop(),
        lambda d: d["receipt"].update(received_at="2020-01-01T00:00:00+00:00"),
        lambda d: d["signature"].update(key_id="other"),
        lambda d: d["receipt"].update(kind="something-else"),
    ],
)
def test_any_change_is_refused(change) -> None:  # type: ignore[no-untyped-def]
    ring = keyring()
    document = json.loads(a_receipt(ring))
    change(document)
    with pytest.raises(ReceiptError):
        verify_receipt(ring.public_keys(), json.dumps(document))


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"receipt": 1}', "{" * 10])
def test_what_is_no_receipt_is_refused(text: str) -> None:
    with pytest.raises(ReceiptError):
        verify_receipt(keyring().public_keys(), text)


def test_another_hotlines_key_is_refused_and_a_rotated_key_still_verifies() -> None:
    old_seed, new_seed = new_seed_text(), new_seed_text()
    old = keyring("k1", k1=old_seed)
    issued = a_receipt(old)
    with pytest.raises(ReceiptError):
        verify_receipt(keyring("k1").public_keys(), issued)  # same id, another key
    rotated = keyring("k2", k1=old_seed, k2=new_seed)
    assert verify_receipt(rotated.public_keys(), issued).key_id == "k1"
