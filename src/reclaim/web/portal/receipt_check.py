"""The public page where anyone (a social worker, a police officer) checks a reporter's
signed receipt against the hotline's public keys.  Nothing is stored or looked up: the
signature alone says whether the receipt is genuine."""

from __future__ import annotations

from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel

from reclaim.intake.receipts import MAX_RECEIPT_BYTES, ReceiptError, verify_receipt
from reclaim.security.signing import public_key_text, signing_keyring
from reclaim.web.common import render
from reclaim.web.portal import pages

router = APIRouter()


class ReceiptForm(BaseModel):
    receipt: str = ""


def _keys(request: Request) -> dict[str, Ed25519PublicKey]:
    return signing_keyring(pages.settings_of(request)).public_keys()


@router.get("/receipt", include_in_schema=False)
def receipt_form(request: Request) -> Response:
    keys = {key_id: public_key_text(key) for key_id, key in _keys(request).items()}
    return render(request, "portal/receipt.html", {"text": "", "keys": keys})


@router.post("/receipt", include_in_schema=False)
def check_receipt(request: Request, form: Annotated[ReceiptForm, Form()]) -> Response:
    public = _keys(request)
    keys = {key_id: public_key_text(key) for key_id, key in public.items()}
    text = form.receipt[: MAX_RECEIPT_BYTES + 1]
    try:
        verified = verify_receipt(public, text)
    except ReceiptError:
        context = {"text": text, "keys": keys, "refused": True}
        return render(request, "portal/receipt.html", context, 400)
    return render(
        request, "portal/receipt.html", {"text": text, "keys": keys, "verified": verified}
    )
