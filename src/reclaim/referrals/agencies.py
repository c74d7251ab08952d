"""The agency directory: who receives referrals, how to reach them, who works for them.

Import and export like the platform directory: JSON
(``{"format": "reclaim-agencies/1", "agencies": [...]}``) or CSV, checked whole before
anything is written (one bad row refuses the file), matched by name, never blanking a
field the file leaves empty.  Webhook secrets never travel in files.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.domain.addresses import InvalidAddressError, parse_email, parse_https_url
from reclaim.domain.clock import Clock, system_clock
from reclaim.domain.languages import Language
from reclaim.referrals.domain import AgencyKind
from reclaim.referrals.models import Agency, AgencyMember

FORMAT_TAG = "reclaim-agencies/1"
CSV_COLUMNS = ("name", "kind", "region", "email", "webhook_url", "language", "public_key", "notes")
Format = Literal["json", "csv"]
#: The roles that work for an agency (and read only what it was sent).
AGENCY_ROLES = frozenset({Role.SOCIAL_WORKER, Role.POLICE_LIAISON})


class AgencyError(ValueError):
    """Bad agency data; ``problems`` names each (field or row: message)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems[:10]))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class AgencyRecord:
    name: str
    kind: str
    region: str = ""
    email: str = ""
    webhook_url: str = ""
    language: str = "zh_TW"
    public_key: str = ""
    notes: str = ""


def parse_public_key(text: str) -> X25519PublicKey:
    """An agency's X25519 public key: base64 of its 32 raw bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the public key is not base64") from None
    if len(raw) != 32:
        raise ValueError("an X25519 public key is 32 bytes")
    return X25519PublicKey.from_public_bytes(raw)


def check_record(record: AgencyRecord) -> list[str]:
    problems = []
    if not record.name.strip() or len(record.name) > 160:
        problems.append("name: required, at most 160 characters")
    if record.kind not in {k.value for k in AgencyKind}:
        problems.append(f"kind: one of {', '.join(k.value for k in AgencyKind)}")
    if not record.email and not record.webhook_url:
        problems.append("email or webhook_url: at least one is needed to deliver referrals")
    try:
        if record.email:
            parse_email(record.email)
        if record.webhook_url:
            parse_https_url(record.webhook_url)
    except InvalidAddressError as exc:
        problems.append(str(exc))
    if Language.parse(record.language) is None:
        problems.append(f"language: one of {', '.join(lang.value for lang in Language)}")
    if record.public_key:
        try:
            parse_public_key(record.public_key)
        except ValueError as exc:
            problems.append(f"public_key: {exc}")
    return problems


def save_agency(
    session: Session,
    record: AgencyRecord,
    *,
    actor: audit.Actor,
    agency: Agency | None = None,
    clock: Clock = system_clock,
) -> Agency:
    """Create an agency or change one; audited AGENCY_CHANGED."""
    if problems := check_record(record):
        raise AgencyError(problems)
    clash = session.scalar(select(Agency).where(Agency.name == record.name.strip()))
    if clash is not None and clash is not agency:
        raise AgencyError(["name: another agency has this name"])
    created = agency is None
    if agency is None:
        agency = Agency(name=record.name.strip(), kind=AgencyKind(record.kind))
        session.add(agency)
    _apply(agency, record, blank_empty=True)
    session.flush()
    audit.record(
        session,
        AuditTag.AGENCY_CHANGED,
        actor=actor,
        target=(TargetKind.AGENCY, agency.id),
        details={"created": created, "name": agency.name, "kind": agency.kind.value},
        clock=clock,
    )
    return agency


def _apply(agency: Agency, record: AgencyRecord, *, blank_empty: bool) -> None:
    agency.name = record.name.strip()
    agency.kind = AgencyKind(record.kind)
    language = Language.parse(record.language)
    agency.language = language.value if language else agency.language
    for name in ("region", "email", "webhook_url", "public_key", "notes"):
        value = getattr(record, name).strip()
        if value or blank_empty:
            setattr(agency, name, value or None)


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.name)))


def add_member(
    session: Session, agency: Agency, user: User, *, actor: audit.Actor, clock: Clock = system_clock
) -> None:
    """Make a social worker or police liaison a member of one agency (one at a time)."""
    if user.role not in AGENCY_ROLES:
        raise AgencyError(["user: only social workers and police liaisons work for agencies"])
    membership = session.get(AgencyMember, user.id)
    if membership is None:
        session.add(AgencyMember(user_id=user.id, agency_id=agency.id))
    else:
        membership.agency_id = agency.id
    session.flush()
    audit.record(
        session,
        AuditTag.AGENCY_MEMBER_CHANGED,
        actor=actor,
        target=(TargetKind.USER, user.id),
        details={"agency": agency.id},
        clock=clock,
    )


def agency_of(session: Session, user_id: int) -> Agency | None:
    membership = session.get(AgencyMember, user_id)
    return membership.agency if membership else None


def members(session: Session, agency: Agency) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(AgencyMember, AgencyMember.user_id == User.id)
            .where(AgencyMember.agency_id == agency.id)
            .order_by(User.email)
        )
    )


# --- import and export ------------------------------------------------------------


def parse_records(text: str, fmt: Format) -> list[AgencyRecord]:
    rows: list[Any]
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AgencyError([f"not JSON: {exc}"]) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_TAG:
            raise AgencyError([f'expected {{"format": "{FORMAT_TAG}", "agencies": [...]}}'])
        rows = data.get("agencies") or []
    else:
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    records, problems = [], []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(f"row {number}: not an object")
            continue
        values = {k: str(row.get(k) or "").strip() for k in CSV_COLUMNS}
        values["language"] = values["language"] or "zh_TW"
        record = AgencyRecord(**values)
        problems += [f"row {number}: {p}" for p in check_record(record)]
        records.append(record)
    names = [r.name for r in records]
    problems += [
        f"{name}: listed twice" for name in sorted({n for n in names if names.count(n) > 1})
    ]
    if problems:
        raise AgencyError(problems)
    return records


def import_records(
    session: Session,
    records: Iterable[AgencyRecord],
    *,
    actor: audit.Actor,
    clock: Clock = system_clock,
) -> tuple[int, int]:
    """Create or update by name; returns (created, updated)."""
    created = updated = 0
    for record in records:
        agency = session.scalar(select(Agency).where(Agency.name == record.name))
        if agency is None:
            save_agency(session, record, actor=actor, clock=clock)
            created += 1
        else:
            _apply(agency, record, blank_empty=False)
            updated += 1
    if updated:
        audit.record(
            session,
            AuditTag.AGENCY_CHANGED,
            actor=actor,
            details={"imported": updated},
            clock=clock,
        )
    session.flush()
    return created, updated


def export_records(session: Session) -> list[AgencyRecord]:
    return [
        AgencyRecord(
            name=a.name,
            kind=a.kind.value,
            region=a.region or "",
            email=a.email or "",
            webhook_url=a.webhook_url or "",
            language=a.language,
            public_key=a.public_key or "",
            notes=a.notes or "",
        )
        for a in list_agencies(session)
    ]


def write_records(records: Iterable[AgencyRecord], fmt: Format) -> str:
    if fmt == "json":
        document = {"format": FORMAT_TAG, "agencies": [asdict(r) for r in records]}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for record in records:
        writer.writerow(asdict(record))
    return buffer.getvalue()
