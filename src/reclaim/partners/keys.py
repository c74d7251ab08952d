"""Partners and their API keys: creating, listing, revoking, and checking a presented key.

Why SHA-256 and not argon2 for key secrets: a password needs a slow hash because
people choose guessable ones; an API key's secret is 256 random bits that nobody
chose, so there is nothing to guess, and a stolen table of digests is as useless to an
attacker with SHA-256 as with argon2.  The partner API checks a key on every request
(at up to thousands a second), where argon2's tens of milliseconds would be the
bottleneck.  The digest is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.addresses import InvalidAddressError, parse_email
from reclaim.domain.clock import Clock, system_clock
from reclaim.partners.domain import KeyParts, Scope, display_prefix, new_key
from reclaim.partners.models import ApiKey, Partner
from reclaim.platforms.models import Platform

#: last_used_at is refreshed at most this often per key (it is for people, not billing).
LAST_USED_RESOLUTION = timedelta(minutes=1)
_SCOPE_VALUES = frozenset(s.value for s in Scope)


class PartnerError(ValueError):
    """A partner or key operation that cannot be done (the message says why)."""


class AuthError(Exception):
    """A presented key that does not grant access; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling the API, as checked from their key."""

    key_id: int
    key_prefix: str
    partner_id: int
    partner_name: str
    platform_id: int
    scopes: frozenset[Scope]
    last_used_at: datetime | None = None

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor.partner(self.partner_id)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: ``plaintext`` is shown once and never stored."""

    key: ApiKey
    plaintext: str


# --- partners -------------------------------------------------------------------------


def create_partner(
    session: Session,
    name: str,
    platform_name: str,
    *,
    contact_email: str | None = None,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> Partner:
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise PartnerError("a partner's name is 1–120 characters")
    if contact_email is not None and contact_email.strip():
        try:
            contact_email = parse_email(contact_email)
        except InvalidAddressError as exc:
            raise PartnerError(str(exc)) from None
    else:
        contact_email = None
    platform = session.scalar(select(Platform).where(Platform.name == platform_name))
    if platform is None:
        raise PartnerError(
            f"no platform named {platform_name!r}; add it to the platform directory first"
        )
    if session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
        raise PartnerError(f"a partner named {name!r} already exists")
    existing = session.scalar(select(Partner).where(Partner.platform_id == platform.id))
    if existing is not None:
        raise PartnerError(
            f"{platform.name} already has a partner identity ({existing.name}); "
            "give it another key instead"
        )
    partner = Partner(
        name=name,
        platform_id=platform.id,
        contact_email=contact_email,
        is_active=True,
        created_at=clock(),
    )
    session.add(partner)
    session.flush()
    audit.record(
        session,
        AuditTag.PARTNER_CHANGED,
        actor=actor,
        target=(TargetKind.PARTNER, partner.id),
        details={"action": "created", "name": name, "platform": platform.name},
        clock=clock,
    )
    return partner


def get_partner(session: Session, name: str) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.name == name))
    if partner is None:
        known = ", ".join(session.scalars(select(Partner.name).order_by(Partner.name))) or "none"
        raise PartnerError(f"no partner named {name!r} (partners: {known})")
    return partner


def list_partners(session: Session) -> Sequence[Partner]:
    return session.scalars(
        select(Partner)
        .options(selectinload(Partner.keys), selectinload(Partner.platform))
        .order_by(Partner.name)
    ).all()


# --- keys -----------------------------------------------------------------------------


def parse_scopes(values: Collection[str]) -> frozenset[Scope]:
    known = {s.value for s in Scope}
    unknown = sorted(set(values) - known)
    if unknown:
        raise PartnerError(
            f"unknown scope(s) {', '.join(unknown)} (scopes: {', '.join(sorted(known))})"
        )
    if not values:
        raise PartnerError("a key needs at least one scope")
    return frozenset(Scope(v) for v in values)


def create_key(
    session: Session,
    partner: Partner,
    scopes: Collection[Scope],
    *,
    name: str = "",
    expires_at: datetime | None = None,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> IssuedKey:
    """Make a key; its plaintext is in the result and nowhere else."""
    now = clock()
    if not scopes:
        raise PartnerError("a key needs at least one scope")
    if expires_at is not None and expires_at <= now:
        raise PartnerError("a key's expiry must be in the future")
    parts = new_key()
    while session.scalar(select(ApiKey.id).where(ApiKey.prefix == parts.prefix)) is not None:
        parts = new_key()  # 36^8 prefixes: a clash is rare, but a unique index would fail
    key = ApiKey(
        partner_id=partner.id,
        name=name.strip()[:120] or "key",
        prefix=parts.prefix,
        secret_sha256=secret_digest(parts.secret),
        scopes=sorted(s.value for s in scopes),
        created_at=now,
        created_by_id=actor.id if actor.type == "user" else None,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        AuditTag.PARTNER_KEY_CREATED,
        actor=actor,
        target=(TargetKind.API_KEY, key.id),
        details={
            "partner": partner.name,
            "prefix": parts.prefix,
            "scopes": key.scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
        clock=clock,
    )
    return IssuedKey(key, str(parts))


def revoke_key(
    session: Session, prefix: str, *, actor: audit.Actor, clock: Clock = system_clock
) -> ApiKey:
    """Revoke a key by its prefix (``ab12cd34`` or ``rcl_ab12cd34_…``); idempotent."""
    wanted = prefix.strip().removeprefix("rcl_").split("_", 1)[0]
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == wanted))
    if key is None:
        raise PartnerError(f"no key with prefix {display_prefix(wanted)}")
    if key.revoked_at is None:
        key.revoked_at = clock()
        audit.record(
            session,
            AuditTag.PARTNER_KEY_REVOKED,
            actor=actor,
            target=(TargetKind.API_KEY, key.id),
            details={"partner": key.partner.name, "prefix": key.prefix},
            clock=clock,
        )
        session.flush()
    return key


def key_state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


# --- checking a presented key ------------------------------------------------------


def authenticate(session: Session, presented: str, *, clock: Clock = system_clock) -> Caller:
    """The caller a presented key stands for, or AuthError with the reason.

    Only a key whose secret is right learns whether it is revoked or expired; any
    other presented text is simply an invalid key.
    """
    parts = KeyParts.parse(presented)
    if parts is None:
        raise AuthError("invalid_api_key", "the API key is malformed or unknown")
    # Columns, not entities: this runs on every API request.
    row = session.execute(
        select(
            ApiKey.id,
            ApiKey.secret_sha256,
            ApiKey.scopes,
            ApiKey.expires_at,
            ApiKey.revoked_at,
            ApiKey.last_used_at,
            Partner.id,
            Partner.name,
            Partner.platform_id,
            Partner.is_active,
        )
        .join(Partner, Partner.id == ApiKey.partner_id)
        .where(ApiKey.prefix == parts.prefix)
    ).one_or_none()
    if row is None or not hmac.compare_digest(row[1], secret_digest(parts.secret)):
        raise AuthError("invalid_api_key", "the API key is malformed or unknown")
    key_id, _, scopes, expires_at, revoked_at, last_used_at = row[:6]
    partner_id, partner_name, platform_id, partner_active = row[6:]
    now = clock()
    if revoked_at is not None:
        raise AuthError("revoked_api_key", "this API key was revoked; ask for a new one")
    if expires_at is not None and expires_at <= now:
        raise AuthError("expired_api_key", "this API key has expired; ask for a new one")
    if not partner_active:
        raise AuthError("partner_inactive", "this partner's access is suspended")
    return Caller(
        key_id=key_id,
        key_prefix=parts.prefix,
        partner_id=partner_id,
        partner_name=partner_name,
        platform_id=platform_id,
        scopes=frozenset(Scope(s) for s in scopes if s in _SCOPE_VALUES),
        last_used_at=last_used_at,
    )


def note_use(session: Session, caller: Caller, *, clock: Clock = system_clock) -> bool:
    """Refresh the key's last-used time if it is older than the resolution.

    A conditional UPDATE, so concurrent requests write it once; returns whether this
    one did (the caller then commits).
    """
    now = clock()
    if caller.last_used_at is not None and caller.last_used_at >= now - LAST_USED_RESOLUTION:
        return False
    result = session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == caller.key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_RESOLUTION),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
