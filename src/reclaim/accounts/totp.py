"""TOTP second factor (RFC 6238): secrets, codes, and the QR code for enrolment.

Secrets are 160 random bits in base32 (what authenticator apps expect), stored in
``User.totp_secret`` encrypted with the field cipher under the purpose ``user.totp``.
A code is accepted for the current 30-second step or one step either side (clocks on
phones drift), and only for a step later than the last one accepted
(``User.totp_last_step``), so a code seen over someone's shoulder cannot be replayed.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno

from reclaim.security.field_crypto import FieldCipher, Purpose

ISSUER = "Reclaim"
STEP_SECONDS = 30
DRIFT_STEPS = 1
DIGITS = 6


def new_secret() -> str:
    return str(pyotp.random_base32())


def seal(cipher: FieldCipher, secret: str) -> str:
    return cipher.encrypt(secret, purpose=Purpose.USER_TOTP)


def unseal(cipher: FieldCipher, stored: str) -> str:
    return cipher.decrypt(stored, purpose=Purpose.USER_TOTP)


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step))


def looks_like_code(text: str) -> bool:
    compact = compact_code(text)
    return len(compact) == DIGITS and compact.isascii() and compact.isdigit()


def compact_code(text: str) -> str:
    """What people type, without the spaces some apps show in the middle."""
    return "".join(text.split())


def accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The step ``code`` belongs to if it is valid now and not used before, else None."""
    code = compact_code(code)
    if not looks_like_code(code):
        return None
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step).encode(), code.encode()):
            return step
    return None


def provisioning_uri(secret: str, account: str) -> str:
    return str(
        pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
            name=account, issuer_name=ISSUER
        )
    )


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI: an <img> the strict CSP allows, made on the server."""
    return str(segno.make(uri, error="m", micro=False).svg_data_uri(scale=5, border=4))


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
