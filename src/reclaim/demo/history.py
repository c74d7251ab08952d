"""Synthetic history: N months of plausible cases, reports, decisions, notices and
outcomes, so the statistics and transparency pages have something to show.

Everything it makes is marked synthetic: case numbers start ``SY-``, reports say
``[synthetic]``, pages live under ``synthetic.example``, notices are ``SYN-…`` and the
platforms are named "Synthetic …".  The same seed gives the same rows.  Rows go in
through bulk INSERTs (the benchmark makes a million reports this way); on PostgreSQL
the id sequences are moved past them afterwards.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.accounts.domain import Role
from reclaim.accounts.models import User
from reclaim.audit.domain import ActorKind, AuditTag, TargetKind
from reclaim.audit.models import AuditEvent
from reclaim.banks.banking import ensure_builtin_banks
from reclaim.banks.domain import VERIFIED_BANKS, EntrySource
from reclaim.banks.models import Bank, BankEntry, Signal
from reclaim.cases.domain import (
    AgeGroup,
    CaseStatus,
    Classification,
    DecisionStatus,
    ItemKind,
    MediaKind,
    MediaOrigin,
    ReporterRole,
    Situation,
)
from reclaim.cases.models import Case, Decision, Item, Media, MediaSignal, Page, Report
from reclaim.domain.signals import SignalType
from reclaim.platforms.models import Platform
from reclaim.statistics import staleness
from reclaim.storage import counters
from reclaim.takedown.domain import (
    DEFAULT_DEADLINE_HOURS,
    MediaOutcome,
    NoticeKind,
    NoticeStatus,
    PageOutcome,
)
from reclaim.takedown.models import Notice, NoticeMedia, NoticePage

MARK = "[synthetic]"
SYNTHETIC_PREFIX = "SY-"
PLATFORMS = (
    ("Synthetic Tube", 5),
    ("Synthetic Social", 4),
    ("Synthetic Forum", 2),
    ("Synthetic Offshore Host", 2),
    ("Synthetic Chat", 1),
)
#: (classification, weight) of decisions on items; None: no decision yet.
DECIDED = (
    (Classification.CSAM, 18),
    (Classification.SELF_GENERATED_MINOR, 24),
    (Classification.SYNTHETIC_MINOR, 4),
    (Classification.ADULT_NCII, 24),
    (Classification.SEXTORTION_THREAT, 10),
    (Classification.GROOMING, 3),
    (Classification.NOT_ACTIONABLE, 8),
    (None, 12),
)
REMOVAL_HOURS = {  # median-ish hours to removal, per platform
    "Synthetic Tube": 10.0,
    "Synthetic Social": 18.0,
    "Synthetic Forum": 40.0,
    "Synthetic Offshore Host": 120.0,
    "Synthetic Chat": 30.0,
}
CHUNK = 20_000
BANK_ENTRIES: Table = BankEntry.__table__  # type: ignore[assignment]
AUDIT_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class History:
    """What was made, by table."""

    counts: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None


def _pick(rng: random.Random, choices: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


class _Ids:
    """The next free id of each table (explicit ids keep the bulk insert simple)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.next: dict[str, int] = {}

    def take(self, table: Table) -> int:
        if table.name not in self.next:
            top = self.session.scalar(select(func.max(table.c.id)))
            self.next[table.name] = int(top or 0) + 1
        value = self.next[table.name]
        self.next[table.name] = value + 1
        return value


class _Writer:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
        self.counts: dict[str, int] = {}
        self.order: list[str] = []

    def add(self, table: Table, row: dict[str, Any]) -> None:
        if table.name not in self.pending:
            self.pending[table.name] = (table, [])
            if table.name not in self.order:
                self.order.append(table.name)
        self.pending[table.name][1].append(row)
        self.counts[table.name] = self.counts.get(table.name, 0) + 1

    def flush_if_full(self) -> None:
        if any(len(rows) >= CHUNK for _, rows in self.pending.values()):
            self.flush()

    def flush(self) -> None:
        for name in self.order:  # parents before children
            table, rows = self.pending.get(name, (None, []))
            if table is not None and rows:
                self.session.execute(insert(table), rows)
                rows.clear()


def make_history(  # noqa: C901 - one pass over the cases, then the bulk writes
    session: Session,
    *,
    months: int,
    end: datetime,
    cases_per_month: int = 60,
    seed: int = 15,
    record_views: bool = True,
    notice_rate: float = 1.0,
    bulk_views: bool = False,
) -> History:
    """Create ``months`` months of synthetic history ending at ``end``.

    ``notice_rate``: the share of removable pages that get a notice (the benchmark's
    proportions).  Case views go into the audit trail through ``audit.record`` (the
    chain stays whole); ``bulk_views`` writes them directly, with placeholder hashes
    that break the chain — only for a benchmark's throwaway database.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by seed
    platforms = _platforms(session)
    analyst = _analyst(session)
    banks: dict[Any, Any] = {
        b.category: b.id for b in ensure_builtin_banks(session) if b.category is not None
    }
    for category, name in VERIFIED_BANKS.items():
        banks.setdefault(category, session.scalar(select(Bank.id).where(Bank.name == name)))
    session.flush()
    ids = _Ids(session)
    out = _Writer(session)
    # Reserve every view and change sequence we might use up front.
    start = end - timedelta(days=30 * months)
    total_cases = months * cases_per_month
    views: list[tuple[int, datetime]] = []
    feed_rows: list[dict[str, Any]] = []
    t: dict[str, Any] = {
        "cases": Case.__table__,
        "reports": Report.__table__,
        "pages": Page.__table__,
        "items": Item.__table__,
        "decisions": Decision.__table__,
        "notices": Notice.__table__,
        "notice_pages": NoticePage.__table__,
        "media": Media.__table__,
        "signals": Signal.__table__,
        "media_signals": MediaSignal.__table__,
        "notice_media": NoticeMedia.__table__,
    }
    out.order = list(t)  # parents before children
    history = History(first=start, last=end)
    for n in range(total_cases):
        created = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        for table, values in _case(
            rng, ids, t, n, created, platforms, analyst, end, banks, feed_rows, views, notice_rate
        ):
            out.add(table, values)
        out.flush_if_full()
    out.flush()
    if feed_rows:
        last = counters.next_values(session, counters.BANK_FEED, len(feed_rows))
        first = last - len(feed_rows) + 1
        for offset, row in enumerate(feed_rows):
            row["change_seq"] = first + offset
        for chunk in _chunks(feed_rows):
            session.execute(insert(BANK_ENTRIES), chunk)
        out.counts["bank_entries"] = len(feed_rows)
    if bulk_views:
        top = int(session.scalar(select(func.max(AuditEvent.id))) or 0)
        rows = [
            {
                "id": top + i + 1,
                "tag": AuditTag.CASE_VIEWED.value,
                "actor_type": ActorKind.USER,
                "actor_id": analyst,
                "target_type": TargetKind.CASE,
                "target_id": case_id,
                "details": {"synthetic": True},
                "created_at": moment,
                "prev_hash": "benchmark",
                "row_hash": f"benchmark-{top + i + 1}",
            }
            for i, (case_id, moment) in enumerate(views)
        ]
        for chunk in _chunks(rows):
            session.execute(insert(AUDIT_EVENTS), chunk)
        out.counts["audit_events"] = len(rows)
    elif record_views:
        for case_id, moment in sorted(views, key=lambda v: v[1]):
            audit.record(
                session,
                AuditTag.CASE_VIEWED,
                actor=audit.Actor.user(analyst),
                target=(TargetKind.CASE, case_id),
                details={"synthetic": True},
                clock=_at(moment),
            )
        out.counts["audit_events"] = len(views)
    _move_sequences(session, [*t.values(), BANK_ENTRIES])
    session.flush()
    # The bulk INSERTs above bypass the ORM's stale marks: any rollup is stale now.
    staleness.mark_everything_rolled_up(session)
    history.counts = out.counts
    return history


def _at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def _platforms(session: Session) -> list[tuple[int, str, int]]:
    found = []
    for name, weight in PLATFORMS:
        platform = session.scalar(select(Platform).where(Platform.name == name))
        if platform is None:
            platform = Platform(
                name=name,
                abuse_email=f"abuse@{name.lower().replace(' ', '-')}.synthetic.example",
                notes=f"{MARK} demo platform",
            )
            session.add(platform)
            session.flush()
        found.append((platform.id, name, weight))
    return found


def _analyst(session: Session) -> int:
    email = "synthetic-analyst@demo.reclaim.test"
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name=f"{MARK} analyst", role=Role.ANALYST, is_active=False)
        session.add(user)
        session.flush()
    return user.id


def _case(  # noqa: PLR0917 - the generator's state, passed along
    rng: random.Random,
    ids: _Ids,
    t: dict[str, Table],
    n: int,
    created: datetime,
    platforms: list[tuple[int, str, int]],
    analyst: int,
    end: datetime,
    banks: dict[Any, Any],
    feed_rows: list[dict[str, Any]],
    views: list[tuple[int, datetime]],
    notice_rate: float,
) -> Iterator[tuple[Table, dict[str, Any]]]:
    age = _pick(rng, ((AgeGroup.UNDER_18, 55), (AgeGroup.ADULT, 35), (AgeGroup.UNSURE, 10)))
    situation = _pick(rng, ((Situation.ONLINE, 70), (Situation.THREAT, 15), (Situation.BOTH, 15)))
    urgent = situation.is_threat and rng.random() < 0.8
    case_id = ids.take(t["cases"])
    status = CaseStatus.RESOLVED if rng.random() < 0.6 else CaseStatus.AWAITING_REMOVAL
    yield (
        t["cases"],
        {
            "id": case_id,
            "number": f"{SYNTHETIC_PREFIX}{n:010d}",
            "pin_hash": "synthetic",
            "status": status,
            "urgent": urgent,
            "created_at": created,
            "updated_at": created,
        },
    )
    look = created + timedelta(hours=rng.lognormvariate(-0.5 if urgent else 1.5, 1.0))
    if look < end:
        views.append((case_id, look))
    for r in range(1 if rng.random() < 0.9 else 2):
        report_id = ids.take(t["reports"])
        reported = created + timedelta(hours=r * rng.uniform(1, 48))
        yield (
            t["reports"],
            {
                "id": report_id,
                "case_id": case_id,
                "idempotency_key": f"synthetic-{n}-{r}",
                "reporter_role": _pick(
                    rng,
                    (
                        (ReporterRole.SELF, 50),
                        (ReporterRole.GUARDIAN, 20),
                        (ReporterRole.PROFESSIONAL, 15),
                        (ReporterRole.OTHER, 15),
                    ),
                ),
                "age_group": age,
                "situation": situation,
                "description": f"{MARK} generated report",
                "contact_consent": False,
                "language": "zh_TW" if rng.random() < 0.85 else "en",
                "created_at": reported,
            },
        )
        hash_only = rng.random() < 0.3
        for i in range(rng.choice((1, 2, 2, 2, 3))):
            yield from _item(
                rng,
                ids,
                t,
                n,
                case_id,
                report_id,
                reported,
                hash_only,
                age,
                urgent,
                platforms,
                analyst,
                end,
                banks,
                feed_rows,
                i + 10 * r,
                notice_rate,
            )


def _item(  # noqa: C901, PLR0912, PLR0915, PLR0917 - one item's whole story, in order
    rng: random.Random,
    ids: _Ids,
    t: dict[str, Table],
    n: int,
    case_id: int,
    report_id: int,
    reported: datetime,
    hash_only: bool,
    age: AgeGroup,
    urgent: bool,
    platforms: list[tuple[int, str, int]],
    analyst: int,
    end: datetime,
    banks: dict[Any, Any],
    feed_rows: list[dict[str, Any]],
    index: int,
    notice_rate: float = 1.0,
) -> Iterator[tuple[Table, dict[str, Any]]]:
    classification: Classification | None = _pick(rng, DECIDED)
    if classification is not None and classification.involves_minor and age is AgeGroup.ADULT:
        classification = (
            Classification.ADULT_NCII
            if classification.calls_for_removal
            else Classification.SEXTORTION_THREAT
        )
    decided = reported + timedelta(hours=rng.lognormvariate(0.0 if urgent else 2.0, 0.8))
    if decided >= end:
        classification = None
    item_id = ids.take(t["items"])
    page_id = None
    platform: tuple[int, str, int] | None = None
    if not hash_only:
        platform = _pick(rng, tuple((p, p[2]) for p in platforms))
        page_id = ids.take(t["pages"])
        yield (
            t["pages"],
            {
                "id": page_id,
                "url": f"https://{_host(platform[1])}/p/{n}-{index}",
                "platform_id": platform[0],
                "created_at": reported,
            },
        )
    yield (
        t["items"],
        {
            "id": item_id,
            "case_id": case_id,
            "report_id": report_id,
            "kind": ItemKind.FILE if hash_only else ItemKind.URL,
            "url": None if hash_only else f"https://synthetic.example/p/{n}-{index}",
            "page_id": page_id,
            "media_kind": MediaKind.IMAGE if hash_only else None,
            "created_at": reported,
            "classification": classification,
        },
    )
    if classification is None:
        return
    yield (
        t["decisions"],
        {
            "id": ids.take(t["decisions"]),
            "item_id": item_id,
            "analyst_id": analyst,
            "classification": classification,
            "reason": MARK,
            "status": DecisionStatus.RECORDED,
            "created_at": decided,
        },
    )
    if platform is None or page_id is None or not classification.calls_for_removal:
        return
    # The picture on the page, its hash and its verified bank entry.
    media_id = ids.take(t["media"])
    digest = hashlib.sha256(f"synthetic-{n}-{index}".encode()).hexdigest()
    signal_id = ids.take(t["signals"])
    yield (
        t["media"],
        {
            "id": media_id,
            "page_id": page_id,
            "origin": MediaOrigin.FETCHED,
            "kind": MediaKind.IMAGE,
            "url": None,
            "sha256": digest,
            "first_seen_at": decided,
        },
    )
    yield (
        t["signals"],
        {"id": signal_id, "type": SignalType.SHA256, "value": digest, "created_at": decided},
    )
    yield t["media_signals"], {"media_id": media_id, "signal_id": signal_id, "quality": None}
    category = classification.category
    withdrawn = decided + timedelta(days=rng.uniform(5, 60)) if rng.random() < 0.03 else None
    feed_rows.append(
        {
            "bank_id": banks[category],
            "signal_id": signal_id,
            "verified": True,
            "category": category,
            "source": EntrySource.DECISION,
            "source_ref": MARK,
            "added_at": decided,
            "withdrawn_at": withdrawn if withdrawn and withdrawn < end else None,
        }
    )
    # The notice and what became of it.
    sent = decided + timedelta(minutes=rng.uniform(5, 120))
    if sent >= end or (notice_rate < 1.0 and rng.random() >= notice_rate):
        return
    hours = DEFAULT_DEADLINE_HOURS.get(classification) or 72
    deadline = sent + timedelta(hours=hours)
    fate = rng.random()
    removed_at = None
    outcome = PageOutcome.PENDING
    if fate < 0.78:
        removed_at = sent + timedelta(hours=rng.lognormvariate(0, 0.9) * REMOVAL_HOURS[platform[1]])
        if removed_at < end:
            outcome = PageOutcome.REMOVED
        else:
            removed_at = None
    elif fate < 0.83:
        outcome = PageOutcome.PARTIALLY_REMOVED
    elif fate < 0.88:
        outcome = PageOutcome.REFUSED
    if outcome is PageOutcome.REMOVED:
        status = NoticeStatus.REMOVED
    elif outcome is PageOutcome.REFUSED:
        status = NoticeStatus.REFUSED
    elif end - deadline > timedelta(days=14):
        status = NoticeStatus.EXPIRED
    elif outcome is PageOutcome.PARTIALLY_REMOVED:
        status = NoticeStatus.PARTIALLY_REMOVED
    else:
        status = NoticeStatus.SENT
    notice_id = ids.take(t["notices"])
    yield (
        t["notices"],
        {
            "id": notice_id,
            "reference": f"SYN-{notice_id:010d}",
            "platform_id": platform[0],
            "kind": NoticeKind.CONTENT,
            "status": status,
            "language": "zh_TW",
            "created_at": decided,
            "queued_at": sent,
            "sent_at": sent,
            "deadline_at": deadline,
            "reminders_sent": 0,
            "subject": MARK,
            "text": MARK,
            "resolved_at": removed_at,
        },
    )
    notice_page_id = ids.take(t["notice_pages"])
    yield (
        t["notice_pages"],
        {
            "id": notice_page_id,
            "notice_id": notice_id,
            "page_id": page_id,
            "classification": classification,
            "outcome": outcome,
            "removed_at": removed_at,
            "checks_done": 1,
        },
    )
    yield (
        t["notice_media"],
        {
            "id": ids.take(t["notice_media"]),
            "notice_page_id": notice_page_id,
            "media_id": media_id,
            "outcome": MediaOutcome.REMOVED if removed_at else MediaOutcome.PENDING,
            "baseline_sha256": digest,
            "removed_at": removed_at,
        },
    )
    if removed_at is not None and rng.random() < 0.05:
        # The same picture turns up again elsewhere, after its removal.
        again = removed_at + timedelta(days=rng.uniform(1, 20))
        if again < end:
            other = _pick(rng, tuple((p, p[2]) for p in platforms))
            other_page = ids.take(t["pages"])
            yield (
                t["pages"],
                {
                    "id": other_page,
                    "url": f"https://{_host(other[1])}/again/{n}-{index}",
                    "platform_id": other[0],
                    "created_at": again,
                },
            )
            other_media = ids.take(t["media"])
            yield (
                t["media"],
                {
                    "id": other_media,
                    "page_id": other_page,
                    "origin": MediaOrigin.FETCHED,
                    "kind": MediaKind.IMAGE,
                    "url": None,
                    "sha256": digest,
                    "first_seen_at": again,
                },
            )
            yield (
                t["media_signals"],
                {"media_id": other_media, "signal_id": signal_id, "quality": None},
            )


def _host(platform: str) -> str:
    return f"{platform.lower().replace(' ', '-')}.synthetic.example"


def _move_sequences(session: Session, tables: list[Table]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        if "id" not in table.c:
            continue
        # Table names come from the models, not from input.
        statement = (
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
        )
        session.execute(text(statement))
