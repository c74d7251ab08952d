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
from reclaim.banks.domain import SELF_REPORTED_BANK, VERIFIED_BANKS, Category, EntrySource
from reclaim.banks.models import Bank, BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases import pages
from reclaim.cases.domain import (
    AgeGroup,
    CaseStatus,
    ItemKind,
    MediaKind,
    ReporterRole,
    SeenHow,
    Situation,
    new_case_number,
)
from reclaim.cases.models import Case, Item, Media, MediaSignal, QuarantinedMedia, Report
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
        page = pages.page_for(session, url, now=created)
        session.add(
            Item(case_id=case.id, report_id=report.id, kind=ItemKind.URL, url=url, page=page)
        )
    for _ in range(files):
        item = Item(case_id=case.id, report_id=report.id, kind=ItemKind.FILE)
        session.add(item)
        pages.device_media(item, MediaKind.IMAGE, now=created)
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


def attach(
    session: Session,
    item: Item,
    *signals: Signal,
    quality: int | None = 90,
    media_url: str | None = None,
) -> Media:
    """Hashes for an item's media: a file item's own, or a picture on a URL item's page
    (at ``media_url``, default the item's URL: the URL is the picture), as a fetch would
    have found it."""
    now = datetime.now(UTC)
    if item.page is None:
        media = item.device_media[0]
    else:
        url = media_url or item.url or ""
        digest = hashlib.sha256(url.encode()).hexdigest()
        media = pages.fetched_media(
            session, item.page, url=url, sha256=digest, kind=MediaKind.IMAGE, now=now
        )
    pages.attach_signals(
        session,
        media,
        [(s, quality if s.type is SignalType.PDQ else None) for s in signals],
        now=now,
    )
    session.refresh(item)
    return media


def bank_verified(
    session: Session,
    *signals: Signal,
    category: Category = Category.CSAM,
    source: EntrySource = EntrySource.IMPORT,
) -> None:
    """Signals in the verified bank of ``category`` (as from a trusted list)."""
    banking.add_signals(
        session,
        banking.verified_bank(session, category),
        [
            banking.NewEntry(
                s,
                90 if s.type is SignalType.PDQ else None,
                verified=True,
                category=category,
                verified_via="test",
            )
            for s in signals
        ],
        source=source,
        source_ref="test",
        min_pdq_quality=50,
    )


def bank_unverified(session: Session, *signals: Signal, bank: str = SELF_REPORTED_BANK) -> int:
    """Signals in an unverified bank (as from reporters' devices); how many were added."""
    outcome = banking.add_signals(
        session,
        banking.get_bank(session, bank),
        [banking.NewEntry(s, 90 if s.type is SignalType.PDQ else None) for s in signals],
        source=EntrySource.REPORT,
        source_ref="test",
        min_pdq_quality=50,
    )
    return outcome.added


def seen(session: Session, media: Media, user: User, how: SeenHow = SeenHow.ORIGINAL) -> None:
    """As if ``user`` had looked at the picture (what makes its hashes verified)."""
    media.seen_by_id, media.seen_at, media.seen_how = user.id, datetime.now(UTC), how
    session.flush()


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


def bank_entries(session: Session, bank: str) -> dict[str, BankEntry]:
    """value -> entry, for every entry (active or withdrawn) of a bank."""
    rows = session.execute(
        select(SignalRow.value, BankEntry)
        .join(BankEntry, BankEntry.signal_id == SignalRow.id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Bank.name == bank)
    )
    return {value: entry for value, entry in rows}  # noqa: C416


def verified_entries(session: Session, category: Category = Category.CSAM) -> dict[str, BankEntry]:
    return bank_entries(session, VERIFIED_BANKS[category])


def quarantined(
    session: Session,
    item: Item,
    object_id: str,
    *,
    fetched_at: datetime,
    expires_at: datetime,
    size: int = 9,
) -> QuarantinedMedia:
    """The record of a picture kept in quarantine for an item (the bytes are the
    caller's to put in the store)."""
    media = attach(session, item)
    row = QuarantinedMedia(
        item_id=item.id,
        media_id=media.id,
        object_id=object_id,
        final_url=media.url or "https://img.example.org/a.jpg",
        content_type="image/png",
        size=size,
        sha256="0" * 64,
        fetched_at=fetched_at,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def signal_links(item: Item) -> list[MediaSignal]:
    """Every hash of every picture an item shows (its file's, or its page's)."""
    return [link for media in item.media for link in media.signals]
