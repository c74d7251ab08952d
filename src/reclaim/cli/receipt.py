"""`reclaim receipt verify`: check a reporter's signed receipt (docs/safety.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from reclaim.cli.app import app
from reclaim.cli.context import console, fail, settings
from reclaim.intake.receipts import ReceiptError, verify_receipt
from reclaim.security.signing import SigningKeyError, load_public_key, signing_keyring

receipt_app = typer.Typer(help="Reporters' signed receipts.", no_args_is_help=True)
app.add_typer(receipt_app, name="receipt")


@receipt_app.command("verify")
def verify(
    receipt: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        exists=True,
        dir_okay=False,
        help="The hotline's public key (PEM or base64); without it, this server's own "
        "keys are used.",
    ),
    key_id: str = typer.Option("", "--key-id", help="The id of --public-key (default: any)."),
) -> None:
    """Check that a receipt was signed by the hotline and not changed since."""
    text = receipt.read_text(encoding="utf-8-sig")
    if public_key is not None:
        try:
            key = load_public_key(public_key.read_text(encoding="utf-8"))
        except SigningKeyError as exc:
            raise fail(str(exc)) from None
        keys = _any_id(key, key_id, text)
    else:
        keys = signing_keyring(settings()).public_keys()
    try:
        verified = verify_receipt(keys, text)
    except ReceiptError as exc:
        raise fail(f"NOT GENUINE: {exc}") from None
    console.print(
        f"genuine: signed by {verified.hotline} (key {verified.key_id})\n"
        f"case {verified.case_number}, received {verified.received_at}, "
        f"{len(verified.fingerprints)} fingerprints",
        soft_wrap=True,
    )
    for fingerprint in verified.fingerprints:
        console.print(
            f"  {fingerprint.get('kind')} sha256 {fingerprint.get('sha256')}", soft_wrap=True
        )


def _any_id(key: Ed25519PublicKey, key_id: str, text: str) -> dict[str, Ed25519PublicKey]:
    """A lone public key answers for the key id the receipt names (or the one given)."""
    try:
        named = str(json.loads(text)["signature"]["key_id"])
    except (ValueError, KeyError, TypeError):
        named = key_id or "?"
    return {key_id or named: key}
