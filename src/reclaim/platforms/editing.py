"""Supervisors edit one platform in the console: contacts, language, domains, secret.

The same rules as an import (``directory``): an email address and an https webhook
URL by the shared address rules, a shipped language, a domain no other platform
serves.  A change is checked whole; a bad field refuses it and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.addresses import InvalidAddressError, parse_email, parse_https_url
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.languages import Language
from reclaim.platforms.domain import InvalidDomainError, normalise_domain
from reclaim.platforms.models import Platform, PlatformDomain
from reclaim.security.field_crypto import FieldCipher, Purpose


class PlatformEditError(ValueError):
    """A change that cannot be made; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class PlatformChange:
    """What the form sent, as typed (empty text clears a field)."""

    abuse_email: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""  # empty: keep the current one
    language: str = "en"
    jurisdiction: str = ""
    notes: str = ""
    add_domain: str = ""


MAX_NAME = 120


def create_platform(
    session: Session,
    name: str,
    domain: str,
    *,
    actor: audit.Actor,
    language: str = "en",
    clock: Clock = system_clock,
) -> Platform:
    """A platform added by hand: a name no other platform has and its first domain;
    audited.  Contacts are added on its page."""
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_NAME or not clean.isprintable():
        raise PlatformEditError("name", f"a platform's name is 1–{MAX_NAME} printable characters")
    taken = session.scalar(select(Platform).where(func.lower(Platform.name) == clean.lower()))
    if taken is not None:
        raise PlatformEditError("name-taken", f"there is already a platform named {taken.name}")
    checked = _checked(session, PlatformChange(language=language, add_domain=domain))
    if not checked["domain"]:
        raise PlatformEditError("domain", "a new platform needs the domain it serves")
    platform = Platform(name=clean, language=checked["language"] or "en", created_at=clock())
    platform.domains.append(PlatformDomain(domain=checked["domain"]))
    session.add(platform)
    session.flush()
    audit.record(
        session,
        AuditTag.PLATFORM_CHANGED,
        actor=actor,
        target=(TargetKind.PLATFORM, platform.id),
        details={"created": clean, "domain_added": checked["domain"]},
        clock=clock,
    )
    return platform


def update_platform(
    session: Session,
    platform: Platform,
    change: PlatformChange,
    *,
    cipher: FieldCipher,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> None:
    """Apply ``change`` to ``platform`` after checking all of it; audited."""
    fields = _checked(session, change)
    domain = fields.pop("domain")
    for name, value in fields.items():
        setattr(platform, name, value)
    if change.webhook_secret:
        platform.webhook_secret = cipher.encrypt(
            change.webhook_secret, purpose=Purpose.WEBHOOK_SECRET
        )
    if domain:
        platform.domains.append(PlatformDomain(domain=domain))
    audit.record(
        session,
        AuditTag.PLATFORM_CHANGED,
        actor=actor,
        target=(TargetKind.PLATFORM, platform.id),
        details={
            "fields": sorted(k for k, v in fields.items() if v),
            "webhook_secret_set": bool(change.webhook_secret),
            "domain_added": domain,
        },
        clock=clock,
    )


def _checked(session: Session, change: PlatformChange) -> dict[str, str | None]:
    try:
        email = parse_email(change.abuse_email) if change.abuse_email.strip() else None
    except InvalidAddressError as exc:
        raise PlatformEditError("email", str(exc)) from None
    try:
        hook = parse_https_url(change.webhook_url) if change.webhook_url.strip() else None
    except InvalidAddressError as exc:
        raise PlatformEditError("webhook", str(exc)) from None
    language = Language.parse(change.language)
    if language is None:
        raise PlatformEditError("language", f"{change.language!r} is not a shipped language")
    domain = None
    if change.add_domain.strip():
        try:
            domain = normalise_domain(change.add_domain)
        except InvalidDomainError as exc:
            raise PlatformEditError("domain", str(exc)) from None
        taken = session.scalar(select(PlatformDomain).where(PlatformDomain.domain == domain))
        if taken is not None:
            raise PlatformEditError("domain-taken", f"{domain} belongs to another platform")
    return {
        "abuse_email": email,
        "webhook_url": hook,
        "language": language.value,
        "jurisdiction": change.jurisdiction.strip() or None,
        "notes": change.notes.strip() or None,
        "domain": domain,
    }
