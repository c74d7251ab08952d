"""`reclaim receipt verify`: with the server's keys, or with a published public key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from reclaim.intake.receipts import receipt_body, sign_receipt
from reclaim.security.signing import SigningKeyring, public_key_pem
from tests.cli.conftest import Invoke
from tests.support.intake import hashed_file
from tests.support.settings import TEST_SIGNING_KEY


def write_receipt(path: Path) -> Path:
    ring = SigningKeyring.from_base64("s1", {"s1": TEST_SIGNING_KEY})
    body = receipt_body(
        hotline="Reclaim",
        case_number="RC-7K2M-9QXD",
        received_at=datetime(2026, 12, 2, tzinfo=UTC),
        files=[hashed_file("one")],
    )
    path.write_text(sign_receipt(ring, body), encoding="utf-8")
    return path


def test_verify_with_the_servers_keys_and_with_a_public_key(
    reclaim: Invoke, tmp_path: Path
) -> None:
    receipt = write_receipt(tmp_path / "receipt.json")
    result = reclaim("receipt", "verify", str(receipt))
    assert result.exit_code == 0, result.output
    assert "genuine" in result.output and "RC-7K2M-9QXD" in result.output
    assert hashed_file("one").sha256.value in result.output

    ring = SigningKeyring.from_base64("s1", {"s1": TEST_SIGNING_KEY})
    pem = tmp_path / "hotline.pem"
    pem.write_text(public_key_pem(ring.public_keys()["s1"]))
    with_key = reclaim("receipt", "verify", str(receipt), "--public-key", str(pem))
    assert with_key.exit_code == 0 and "genuine" in with_key.output


def test_a_changed_receipt_is_not_genuine(reclaim: Invoke, tmp_path: Path) -> None:
    receipt = write_receipt(tmp_path / "receipt.json")
    document = json.loads(receipt.read_text())
    document["receipt"]["fingerprints"] = []
    receipt.write_text(json.dumps(document))
    result = reclaim("receipt", "verify", str(receipt))
    assert result.exit_code == 1 and "NOT GENUINE" in result.output
