import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cases.domain import Classification
from reclaim.platforms.models import Platform
from reclaim.takedown.domain import VerificationOutcome
from reclaim.takedown.escalation import (
    build_report,
    overdue_by_platform,
    overdue_notices,
    to_csv,
    to_html,
    to_pdf,
)
from reclaim.takedown.models import Verification
from reclaim.takedown.notices import NoticePolicy
from tests.support.settings import make_settings
from tests.support.takedown import case_with_urls, notice_for

ACTOR = audit.Actor(ActorKind.USER, None)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _sent_notice(session: Session, tmp_path: Path, name: str, url: str, classification):  # type: ignore[no-untyped-def]
    platform = Platform(name=name, abuse_email="abuse@example.org")
    session.add(platform)
    session.flush()
    case = case_with_urls(session, [url], classification=classification, platform=platform)
    policy = NoticePolicy.from_settings(make_settings(tmp_path))
    notice, _ = notice_for(session, case, policy, clock=lambda: T0)
    return notice


def test_overdue_notices_and_the_report(session: Session, tmp_path: Path) -> None:
    minor = _sent_notice(
        session,
        tmp_path,
        "Fast Site",
        "https://fast.example/=cmd|1",
        Classification.SELF_GENERATED_MINOR,
    )
    adult = _sent_notice(
        session, tmp_path, "論壇", "https://forum.example/p/9", Classification.ADULT_NCII
    )
    session.add(
        Verification(
            notice_item_id=minor.items[0].id,
            checked_at=T0 + timedelta(hours=1),
            outcome=VerificationOutcome.STILL_UP,
            http_status=200,
        )
    )
    session.flush()

    now = T0 + timedelta(hours=30)  # past the minor's 24 h, not the adult's 72 h
    assert overdue_notices(session, now) == [minor]
    assert [(p.name, n) for p, n in overdue_by_platform(session, now)] == [("Fast Site", 1)]
    later = T0 + timedelta(hours=80)
    assert overdue_notices(session, later) == [minor, adult]

    report = build_report(session, overdue_notices(session, later), now=later, hotline="熱線")
    html = to_html(report)
    assert minor.reference in html and adult.reference in html and "論壇" in html
    assert "still_up (HTTP 200)" in html
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [r["notice"] for r in rows] == [minor.reference, adult.reference]
    assert rows[0]["overdue_hours"] == "56.0" and rows[0]["checks"] == "1"
    assert rows[0]["url"] == "https://fast.example/=cmd|1"  # not a formula: starts with h
    pdf = to_pdf(report)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000


def test_platform_figures_and_the_reporters_progress(session: Session, tmp_path: Path) -> None:
    from reclaim.takedown.domain import ItemOutcome, NoticeStatus
    from reclaim.takedown.notices import move
    from reclaim.takedown.progress import case_progress, platform_figures

    fast = _sent_notice(
        session,
        tmp_path,
        "Fast Site",
        "https://fast.example/1",
        Classification.SELF_GENERATED_MINOR,
    )
    slow = _sent_notice(
        session,
        tmp_path,
        "Slow Site",
        "https://slow.example/1",
        Classification.SELF_GENERATED_MINOR,
    )
    fast.items[0].outcome = ItemOutcome.REMOVED
    fast.items[0].removed_at = T0 + timedelta(hours=3)
    move(session, fast, NoticeStatus.REMOVED, actor=ACTOR)
    session.flush()
    figures = {f.platform: f for f in platform_figures(session, T0 + timedelta(hours=30))}
    assert figures["Fast Site"].median_hours_to_removal == 3.0
    assert figures["Fast Site"].compliance == 1.0 and figures["Fast Site"].overdue == 0
    assert figures["Slow Site"].overdue == 1 and figures["Slow Site"].compliance is None
    progress = case_progress(session, fast.case_id)
    assert (progress.sites, progress.items, progress.removed) == (1, 1, 1)
    assert case_progress(session, slow.case_id).removed == 0


def test_changed_content_is_listed_for_an_analyst(session: Session, tmp_path: Path) -> None:
    from reclaim.takedown.progress import changed_content

    notice = _sent_notice(
        session, tmp_path, "Site", "https://site.example/1", Classification.ADULT_NCII
    )
    item = notice.items[0]
    for hours, outcome in ((1, VerificationOutcome.STILL_UP), (6, VerificationOutcome.CHANGED)):
        session.add(
            Verification(
                notice_item_id=item.id, checked_at=T0 + timedelta(hours=hours), outcome=outcome
            )
        )
        session.flush()
    assert changed_content(session) == [item]
    session.add(
        Verification(
            notice_item_id=item.id,
            checked_at=T0 + timedelta(hours=24),
            outcome=VerificationOutcome.STILL_UP,
        )
    )
    session.flush()
    assert changed_content(session) == []
