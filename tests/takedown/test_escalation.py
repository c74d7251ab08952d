"""Overdue notices, the escalation report for the authority, the supervisors' figures per
platform and the reporter's progress: pages and pictures counted once, partial removals
and platforms' refusals (with their reasons) shown."""

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.cases.models import Case
from reclaim.platforms.models import Platform
from reclaim.takedown import answers
from reclaim.takedown.domain import NoticeStatus, ResolveOutcome, VerificationOutcome
from reclaim.takedown.escalation import (
    build_report,
    overdue_by_platform,
    overdue_notices,
    to_csv,
    to_html,
    to_pdf,
)
from reclaim.takedown.models import Notice, NoticePage, Verification
from reclaim.takedown.notices import NoticePolicy
from reclaim.takedown.progress import case_progress, changed_content, platform_figures
from reclaim.takedown.verification import Finding, Findings, apply, plan
from tests.support.cases import make_case
from tests.support.settings import make_settings
from tests.support.takedown import Picture, case_with_urls, decide, notice_for

ACTOR = audit.Actor(ActorKind.USER, None)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
REMOVED = Finding(VerificationOutcome.REMOVED, 404, detail="gone")
STILL_UP = Finding(VerificationOutcome.STILL_UP, 200)


@pytest.fixture
def policy(tmp_path: Path) -> NoticePolicy:
    return NoticePolicy.from_settings(make_settings(tmp_path))


def _sent_notice(
    session: Session,
    policy: NoticePolicy,
    name: str,
    urls: Sequence[str],
    classification: Classification,
    *,
    pictures: dict[str, list[Picture]] | None = None,
) -> tuple[Case, Notice]:
    platform = Platform(name=name, abuse_email="abuse@example.org")
    session.add(platform)
    session.flush()
    case = case_with_urls(
        session, urls, classification=classification, platform=platform, pictures=pictures
    )
    notice, _ = notice_for(session, case, policy, clock=lambda: T0)
    return case, notice


def _check(
    session: Session,
    page: NoticePage,
    policy: NoticePolicy,
    at: datetime,
    page_finding: Finding,
    *,
    media: Sequence[Finding] = (),
) -> None:
    """Record a check as verification would after fetching (the findings given)."""
    findings = Findings(page_finding, {nm.id: f for nm, f in zip(page.media, media, strict=True)})
    apply(session, plan(session, page.id), findings, policy, clock=lambda: at)
    session.flush()


def test_overdue_notices_and_the_report(session: Session, policy: NoticePolicy) -> None:
    _, minor = _sent_notice(
        session,
        policy,
        "Fast Site",
        ["https://fast.example/=cmd|1"],
        Classification.SELF_GENERATED_MINOR,
    )
    _, adult = _sent_notice(
        session,
        policy,
        "論壇",
        ["https://forum.example/p/9"],
        Classification.ADULT_NCII,
        pictures={
            "https://forum.example/p/9": [
                ("https://img.forum.example/9a.jpg", "a"),
                ("https://img.forum.example/9b.jpg", "b"),
            ]
        },
    )
    _check(session, minor.pages[0], policy, T0 + timedelta(hours=1), STILL_UP)
    # The forum took down one of the two pictures, and refused the rest by email.
    _check(
        session,
        adult.pages[0],
        policy,
        T0 + timedelta(hours=1),
        STILL_UP,
        media=[REMOVED, STILL_UP],
    )
    answers.resolve(
        session,
        adult,
        [answers.PageClaim(adult.pages[0].id, ResolveOutcome.REFUSED, "=legal under our terms")],
        policy,
        actor=ACTOR,
        via=answers.Via.EMAIL,
        clock=lambda: T0 + timedelta(hours=2),
    )
    # The refusal settles the page (the platform's own decision); what checks saw stays.
    assert adult.status is NoticeStatus.REFUSED
    assert [nm.outcome.value for nm in adult.pages[0].media] == ["removed", "pending"]

    now = T0 + timedelta(hours=30)  # past the minor's 24 h, not the adult's 72 h
    assert overdue_notices(session, now) == [minor]
    assert [(p.name, n) for p, n in overdue_by_platform(session, now)] == [("Fast Site", 1)]
    later = T0 + timedelta(hours=80)
    assert overdue_notices(session, later) == [minor, adult]

    report = build_report(session, overdue_notices(session, later), now=later, hotline="熱線")
    html = to_html(report)
    assert minor.reference in html and adult.reference in html and "論壇" in html
    assert "HTTP 200" in html
    assert "=legal under our terms" in html  # the platform's reason, for the authority
    assert "https://img.forum.example/9b.jpg" in html  # the picture still up
    rows = list(csv.DictReader(io.StringIO(to_csv(report).removeprefix("\ufeff"))))
    assert [r["notice"] for r in rows] == [minor.reference, adult.reference]
    assert rows[0]["overdue_hours"] == "56.0" and rows[0]["checks"] == "1"
    assert rows[0]["url"] == "https://fast.example/=cmd|1"  # not a formula: starts with h
    assert rows[1]["platform_reason"] == "'=legal under our terms"  # kept from running
    assert rows[1]["pictures_still_up"] == "https://img.forum.example/9b.jpg"
    assert rows[1]["platform_answer"] == "refused"
    pdf = to_pdf(report)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000


def test_platform_figures_count_pages_and_pictures_once(
    session: Session, policy: NoticePolicy
) -> None:
    fast_case, fast = _sent_notice(
        session,
        policy,
        "Fast Site",
        ["https://fast.example/1"],
        Classification.SELF_GENERATED_MINOR,
    )
    # The same page, reported again in a second case after the notice went out.
    again = make_case(session, urls=["https://fast.example/1"])
    decide(session, again.items[0], Classification.SELF_GENERATED_MINOR)
    slow_case, slow = _sent_notice(
        session,
        policy,
        "Slow Site",
        ["https://slow.example/1", "https://slow.example/2"],
        Classification.SELF_GENERATED_MINOR,
        pictures={
            "https://slow.example/1": [
                ("https://img.slow.example/1a.jpg", "a"),
                ("https://img.slow.example/1b.jpg", "b"),
            ]
        },
    )
    _check(session, fast.pages[0], policy, T0 + timedelta(hours=3), REMOVED)
    assert fast.status is NoticeStatus.REMOVED
    _check(
        session, slow.pages[0], policy, T0 + timedelta(hours=3), STILL_UP, media=[REMOVED, STILL_UP]
    )

    figures = {f.platform: f for f in platform_figures(session, T0 + timedelta(hours=30))}
    quick = figures["Fast Site"]
    assert (quick.notices, quick.pages, quick.removed) == (1, 1, 1)  # one page, two cases
    assert quick.median_hours_to_removal == 3.0
    assert quick.compliance == 1.0 and quick.overdue == 0
    late = figures["Slow Site"]
    assert (late.pages, late.removed, late.partially_removed) == (2, 0, 1)
    assert (late.media, late.media_removed) == (2, 1)
    assert late.overdue == 1 and late.compliance is None

    for case in (fast_case, again):  # both reporters see the one page come down
        progress = case_progress(session, case.id)
        assert (progress.sites, progress.items, progress.removed) == (1, 1, 1)
        assert case.status is CaseStatus.RESOLVED
    progress = case_progress(session, slow_case.id)
    assert (progress.items, progress.removed, progress.partially) == (2, 0, 1)


def test_a_refusal_counts_on_the_platform(session: Session, policy: NoticePolicy) -> None:
    _, notice = _sent_notice(
        session, policy, "Site", ["https://site.example/1"], Classification.ADULT_NCII
    )
    answers.resolve(
        session,
        notice,
        [answers.PageClaim(notice.pages[0].id, ResolveOutcome.REFUSED, "satire")],
        policy,
        actor=ACTOR,
        via=answers.Via.API,
        clock=lambda: T0 + timedelta(hours=1),
    )
    (figures,) = platform_figures(session, T0 + timedelta(hours=2))
    assert (figures.refused, figures.removed, figures.open_notices) == (1, 0, 0)


def test_changed_content_is_listed_for_an_analyst(session: Session, policy: NoticePolicy) -> None:
    _, notice = _sent_notice(
        session, policy, "Site", ["https://site.example/1"], Classification.ADULT_NCII
    )
    page = notice.pages[0]
    for hours, outcome in ((1, VerificationOutcome.STILL_UP), (6, VerificationOutcome.CHANGED)):
        session.add(
            Verification(
                notice_page_id=page.id, checked_at=T0 + timedelta(hours=hours), outcome=outcome
            )
        )
        session.flush()
    assert changed_content(session) == [page]
    session.add(
        Verification(
            notice_page_id=page.id,
            checked_at=T0 + timedelta(hours=24),
            outcome=VerificationOutcome.STILL_UP,
        )
    )
    session.flush()
    assert changed_content(session) == []
