"""Factories for referrals: agencies, members and sent referrals."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.models import User
from reclaim.cases.models import Case
from reclaim.referrals import agencies, referring
from reclaim.referrals.domain import AgencyKind, ReferralPolicy, Share
from reclaim.referrals.models import Agency, Referral

#: A fixed agency key pair (tests only): the agency's private half decrypts media.
AGENCY_PRIVATE = X25519PrivateKey.from_private_bytes(bytes(range(32)))
AGENCY_PUBLIC = base64.b64encode(
    AGENCY_PRIVATE.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
).decode()


def make_agency(
    session: Session,
    name: str = "Taipei City Social Welfare Department",
    kind: AgencyKind = AgencyKind.SOCIAL_SERVICES,
    *,
    email: str = "referrals@social.example.org",
    webhook_url: str = "",
    public_key: str = AGENCY_PUBLIC,
) -> Agency:
    return agencies.save_agency(
        session,
        agencies.AgencyRecord(
            name=name,
            kind=kind.value,
            region="Taipei",
            email=email,
            webhook_url=webhook_url,
            public_key=public_key,
        ),
        actor=audit.SYSTEM,
    )


def sent_referral(
    session: Session,
    case: Case,
    agency: Agency,
    sender: User,
    *,
    shares: Sequence[Share] = (Share.CONTACT, Share.WORDS),
    secret: bytes = b"test-secret",
    policy: ReferralPolicy | None = None,
) -> Referral:
    referral = referring.draft(
        session, case, agency, shares, actor=audit.Actor.user(sender.id), created_by_id=sender.id
    )
    referring.send(
        session, referral, policy or ReferralPolicy(), sender_id=sender.id, secret=secret
    )
    return referral
