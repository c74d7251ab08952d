"""A receipt the reporter keeps: the case number, when the report arrived and the
fingerprints they submitted, signed with the hotline's key.

No other service gives one.  A social worker or police officer the reporter shows it to
can check, without asking the hotline, that this report was made at that time with
those fingerprints (``reclaim receipt verify``, or the portal's public verification
page); that links a self-service report to a later referral without the hotline keeping
anything more.  The receipt holds no PIN and nothing identifying the reporter.

The signed bytes are the receipt's JSON in canonical form (sorted keys, no spaces,
UTF-8), so any Ed25519 implementation can check it against the published public key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from reclaim.intake.domain import FileHashes
from reclaim.security.signing import Signature, SignatureError, SigningKeyring, verify

KIND = "reclaim-report-receipt"
VERSION = 1
MAX_RECEIPT_BYTES = 200_000


class ReceiptError(ValueError):
    """Not a receipt, or its signature does not verify."""


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    hotline: str
    case_number: str
    received_at: str
    fingerprints: tuple[Mapping[str, str], ...]
    key_id: str


def receipt_body(
    *, hotline: str, case_number: str, received_at: datetime, files: Sequence[FileHashes]
) -> dict[str, object]:
    return {
        "kind": KIND,
        "version": VERSION,
        "hotline": hotline,
        "case_number": case_number,
        "received_at": received_at.isoformat(timespec="seconds"),
        "fingerprints": [_fingerprint(f) for f in files],
    }


def _fingerprint(hashed: FileHashes) -> dict[str, str]:
    found = {
        "kind": hashed.media_kind.value,
        "md5": hashed.md5.value,
        "sha256": hashed.sha256.value,
    }
    if hashed.pdq is not None:
        found["pdq"] = hashed.pdq.value
    return found


def canonical(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_receipt(keyring: SigningKeyring, body: Mapping[str, object]) -> str:
    """The receipt as the reporter keeps it: indented JSON with its signature."""
    signature = keyring.sign(canonical(body))
    return json.dumps(
        {"receipt": body, "signature": signature.to_json()}, ensure_ascii=False, indent=2
    )


def verify_receipt(public_keys: Mapping[str, Ed25519PublicKey], text: str) -> VerifiedReceipt:
    """What a receipt says, once its signature is checked; ReceiptError otherwise."""
    if len(text.encode()) > MAX_RECEIPT_BYTES:
        raise ReceiptError("this is too long to be a receipt")
    try:
        document = json.loads(text)
        body, signed = document["receipt"], document["signature"]
        if not isinstance(body, dict) or body.get("kind") != KIND:
            raise ReceiptError("this is not a Reclaim receipt")
        verify(public_keys, canonical(body), Signature.from_json(signed))
        fingerprints = tuple(dict(f) for f in body["fingerprints"])
        return VerifiedReceipt(
            hotline=str(body["hotline"]),
            case_number=str(body["case_number"]),
            received_at=str(body["received_at"]),
            fingerprints=fingerprints,
            key_id=str(signed["key_id"]),
        )
    except ReceiptError:
        raise
    except SignatureError as exc:
        raise ReceiptError(f"the signature does not verify: {exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ReceiptError("this is not a Reclaim receipt") from None
