"""Factories for reports and their hashed files, shared by the service, web and browser
tests of the portal.  Hashes are made up (derived from a seed), never of real content."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.audit.models import AuditEvent
from reclaim.banks.models import BankEntry
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.domain import AgeGroup, MediaKind, ReporterRole, Situation
from reclaim.cases.models import Case, Item, Media, MediaSignal, Page, Report
from reclaim.domain.signals import Signal, SignalType
from reclaim.intake.domain import FileHashes, ReportInput
from reclaim.intake.submission import IntakePolicy


def hashed_file(
    seed: str, *, kind: MediaKind = MediaKind.IMAGE, quality: int | None = 90
) -> FileHashes:
    """Made-up hashes of a file named by ``seed`` (an image has a PDQ unless quality=None)."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    md5 = Signal(SignalType.MD5, hashlib.md5(seed.encode()).hexdigest())  # noqa: S324
    sha256 = Signal(SignalType.SHA256, digest)
    if kind is MediaKind.VIDEO or quality is None:
        return FileHashes(kind, md5, sha256)
    pdq = Signal(SignalType.PDQ, hashlib.sha256(b"pdq" + seed.encode()).hexdigest())
    return FileHashes(kind, md5, sha256, pdq, quality)


def a_report(**changes: Any) -> ReportInput:
    report = ReportInput(
        idempotency_key=secrets.token_urlsafe(24),
        reporter_role=ReporterRole.SELF,
        age_group=AgeGroup.UNDER_18,
        situation=Situation.ONLINE,
        urls=("https://forum.example.net/t/1",),
        files=(hashed_file("photo-1"),),
        description="Someone posted my photo.",
        contact=None,
        contact_consent=False,
        language="zh_TW",
    )
    return replace(report, **changes)


def a_policy(**changes: Any) -> IntakePolicy:
    return replace(IntakePolicy(min_pdq_quality=50, pin_secret=b"k" * 32), **changes)


COUNTED = (Case, Report, Item, Page, Media, MediaSignal, SignalRow, BankEntry, AuditEvent)


def row_counts(session: Session) -> dict[str, int]:
    """How many rows each table a report writes holds (to show nothing changed)."""
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in COUNTED
    }
