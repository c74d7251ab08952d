"""Demo data for a development machine: staff accounts, banks, a few cases.

Everything here is synthetic: example.* URLs and made-up hashes, never real content.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts import totp, users
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.accounts.users import create_user, find_user
from reclaim.audit.domain import AuditTag
from reclaim.banks.banking import ensure_builtin_banks
from reclaim.cases.domain import AgeGroup, ReporterRole, Situation
from reclaim.intake.domain import ReportInput
from reclaim.intake.submission import IntakePolicy, submit_report
from reclaim.platforms.directory import import_records, seed_records
from reclaim.platforms.models import Platform
from reclaim.security.field_crypto import FieldCipher, FieldDecryptionError

DEMO_PASSWORD = "reclaim-demo-password"  # noqa: S105 - development mode only, printed
DEMO_STAFF = (
    ("admin@demo.reclaim.test", Role.ADMIN, "Demo Admin"),
    ("analyst@demo.reclaim.test", Role.ANALYST, "Demo Analyst"),
    ("supervisor@demo.reclaim.test", Role.SUPERVISOR, "Demo Supervisor"),
)


def demo_totp_secret(email: str) -> str:
    """A fixed TOTP secret per demo account, so a developer's authenticator keeps
    working across `reclaim demo` runs.  Derived from the public email: development
    only, like the demo password (`reclaim demo` refuses to run elsewhere)."""
    digest = hashlib.sha256(f"reclaim-demo-totp:{email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


@dataclass(frozen=True, slots=True)
class DemoCase:
    number: str
    pin: str


@dataclass(frozen=True, slots=True)
class DemoStaff:
    email: str
    role: Role
    totp_secret: str


@dataclass(frozen=True, slots=True)
class DemoData:
    staff: tuple[DemoStaff, ...]
    password: str
    cases: tuple[DemoCase, ...]


def load_demo(session: Session, *, cipher: FieldCipher) -> DemoData:
    """Idempotent for accounts and banks; adds two fresh demo cases each time."""
    ensure_builtin_banks(session)
    if session.scalar(select(Platform.id).limit(1)) is None:
        import_records(session, seed_records(), actor=audit.SYSTEM)
    staff = tuple(_demo_account(session, cipher, *entry) for entry in DEMO_STAFF)
    # Demo cases go through intake like any report.  They hold no files (so no bank is
    # written) and their PINs are printed, so a throwaway secret is enough here.
    policy = IntakePolicy(min_pdq_quality=0, pin_secret=secrets.token_bytes(32))
    cases = (
        _demo_case(
            session,
            situation=Situation.THREAT,
            age=AgeGroup.UNDER_18,
            urls=(),
            description="Someone I met in a game says he will post my photos.",
            policy=policy,
            cipher=cipher,
        ),
        _demo_case(
            session,
            situation=Situation.ONLINE,
            age=AgeGroup.UNSURE,
            urls=("https://forum.example.net/t/1234", "https://img.example.org/a/5678.jpg"),
            description="My classmate's photos were posted on a forum.",
            policy=policy,
            cipher=cipher,
        ),
    )
    audit.record(session, AuditTag.DEMO_LOADED, actor=audit.SYSTEM)
    return DemoData(staff=staff, password=DEMO_PASSWORD, cases=cases)


def _demo_account(
    session: Session, cipher: FieldCipher, email: str, role: Role, name: str
) -> DemoStaff:
    """A fully enrolled demo account (password and TOTP), as left by enrolment."""
    user = find_user(session, email) or create_user(
        session, email=email, role=role, display_name=name, password=None, actor=audit.SYSTEM
    )
    secret = demo_totp_secret(email)
    if not users.is_enrolled(user) or _stored_secret(cipher, user) != secret:
        user.is_active = True
        users.set_password(user, DEMO_PASSWORD)
        user.totp_secret = totp.seal(cipher, secret)
        user.totp_enabled_at = datetime.now(UTC)
        user.totp_last_step = None
    return DemoStaff(email, role, secret)


def _stored_secret(cipher: FieldCipher, user: User) -> str | None:
    try:
        return totp.unseal(cipher, user.totp_secret) if user.totp_secret else None
    except FieldDecryptionError:  # sealed under a key this machine no longer has
        return None


def _demo_case(
    session: Session,
    *,
    situation: Situation,
    age: AgeGroup,
    urls: tuple[str, ...],
    description: str,
    policy: IntakePolicy,
    cipher: FieldCipher,
) -> DemoCase:
    report = ReportInput(
        idempotency_key=secrets.token_urlsafe(24),
        reporter_role=ReporterRole.SELF,
        age_group=age,
        situation=situation,
        urls=urls,
        files=(),
        description=description,
        contact=None,
        contact_consent=False,
        language="en",
    )
    receipt = submit_report(session, report, policy=policy, cipher=cipher)
    return DemoCase(receipt.case_number, receipt.pin or "")  # a new report has its PIN
