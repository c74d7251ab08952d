"""Factories for case-work tests (triage, cases, review, decisions), on any backend.

Everything is synthetic: example URLs, made-up hashes, images drawn with Pillow.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.banks import banking
from reclaim.banks.domain import CONFIRMED_BANK, EntrySource
from reclaim.banks.models import Bank, BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.domain import (
    AgeGroup,
    CaseStatus,
    ItemKind,
    ReporterRole,
    Situation,
    new_case_number,
)
from reclaim.cases.models import Case, Item, ItemSignal, Report
from reclaim.domain.signals import Signal, SignalType
from reclaim.security.field_crypto import FieldCipher, Purpose

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def flip_bits(pdq: str, bits: int) -> str:
    """A PDQ hash ``bits`` bits away from ``pdq``."""
    value = int(pdq, 16)
    for bit in range(bits):
        value ^= 1 << (bit * 3)
    return f"{value:064x}"


def make_user(session: Session, role: Role = Role.ANALYST, name: str | None = None) -> User:
    user = User(
        email=f"{role.value}-{secrets.token_hex(4)}@staff.reclaim.test",
        display_name=name or f"Test {role.value}",
        role=role,
        totp_enabled_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def make_case(
    session: Session,
    *,
    urls: Sequence[str] = (),
    files: int = 0,
    urgent: bool = False,
    age: AgeGroup = AgeGroup.ADULT,
    situation: Situation = Situation.ONLINE,
    status: CaseStatus = CaseStatus.NEW,
    created_at: datetime | None = None,
    contact: str | None = None,
    cipher: FieldCipher | None = None,
    description: str = "Synthetic test report.",
) -> Case:
    created = created_at or datetime.now(UTC)
    case = Case(
        number=new_case_number(),
        pin_hash="not-a-real-hash",
        status=status,
        urgent=urgent,
        created_at=created,
        updated_at=created,
    )
    session.add(case)
    session.flush()
    report = Report(
        case_id=case.id,
        idempotency_key=secrets.token_hex(16),
        reporter_role=ReporterRole.SELF,
        age_group=age,
        situation=situation,
        description=description,
        contact=cipher.encrypt(contact, purpose=Purpose.REPORT_CONTACT)
        if contact and cipher
        else None,
        contact_consent=contact is not None,
        language="en",
        created_at=created,
    )
    session.add(report)
    session.flush()
    for url in urls:
        session.add(Item(case_id=case.id, report_id=report.id, kind=ItemKind.URL, url=url))
    for _ in range(files):
        session.add(Item(case_id=case.id, report_id=report.id, kind=ItemKind.FILE))
    session.flush()
    session.refresh(case)
    return case


def signal_row(session: Session, signal: Signal) -> SignalRow:
    row = (
        session.query(SignalRow)
        .filter(SignalRow.type == signal.type, SignalRow.value == signal.value)
        .one_or_none()
    )
    if row is None:
        row = SignalRow(type=signal.type, value=signal.value)
        session.add(row)
        session.flush()
    return row


def attach(session: Session, item: Item, *signals: Signal, quality: int | None = 90) -> None:
    for signal in signals:
        row = signal_row(session, signal)
        q = quality if signal.type is SignalType.PDQ else None
        session.add(ItemSignal(item_id=item.id, signal_id=row.id, quality=q))
    session.flush()


def bank_confirmed(
    session: Session, *signals: Signal, source: EntrySource = EntrySource.IMPORT
) -> None:
    banking.add_signals(
        session,
        banking.get_bank(session, CONFIRMED_BANK),
        [
            banking.NewEntry(s, 90 if s.type is SignalType.PDQ else None, verified=True)
            for s in signals
        ],
        source=source,
        source_ref="test",
        min_pdq_quality=50,
    )


def pdq(value: str = PDQ_A) -> Signal:
    return Signal(SignalType.PDQ, value)


def md5(text: str) -> Signal:
    return Signal(SignalType.MD5, hashlib.md5(text.encode(), usedforsecurity=False).hexdigest())


def synthetic_png(seed: int = 1, size: tuple[int, int] = (160, 120)) -> bytes:
    """A detailed synthetic picture (shapes and stripes): enough for PDQ quality."""
    image = Image.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for index in range(12):
        x = (seed * 37 + index * 23) % size[0]
        y = (seed * 17 + index * 29) % size[1]
        colour = ((seed * 50 + index * 20) % 256, (index * 40) % 256, (seed * 90) % 256)
        draw.rectangle((x, y, x + 30, y + 20), fill=colour)
        draw.line(
            (0, index * 10, size[0], (index * 13 + seed) % size[1]), fill=(20, 20, 20), width=2
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def confirmed_entries(session: Session) -> dict[str, BankEntry]:
    """value -> entry, for every entry (active or withdrawn) of the confirmed bank."""
    rows = session.execute(
        select(SignalRow.value, BankEntry)
        .join(BankEntry, BankEntry.signal_id == SignalRow.id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Bank.name == CONFIRMED_BANK)
    )
    return {value: entry for value, entry in rows}  # noqa: C416
