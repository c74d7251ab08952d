"""The one-time answer link of a referral: derived from the hotline's secret, so the
outbox can put it in every message while only its hash is stored (cleared once used)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from reclaim.config import Settings
from reclaim.referrals.models import Referral


def answer_token(secret: bytes, referral: Referral) -> str:
    """The one-time token of a referral's answer link (derived, so the outbox can put it
    in every message; only its hash is stored, and it is cleared once used)."""
    sent = referral.sent_at.isoformat() if referral.sent_at else ""
    mac = hmac.new(secret, f"referral-answer:{referral.id}:{sent}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def answer_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/console/referral-answer/{token}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
