"""Overdue notices, the escalation report for the authority, the supervisors' figures per
platform and the reporter's progress: pages and pictures counted once, partial removals
and platforms' refusals (with their reasons) shown."""

import csv
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cases.domain import CaseStatus, Classification
from reclaim.cases.models import Case
from reclaim.platforms.models import Platform
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.removal import RemovalFigures, removal_figures
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
from reclaim.takedown.progress import case_progress, changed_content
from reclaim.takedown.verification import Finding, Findings, apply, plan
from tests.support.cases import make_case
from tests.support.documents import (
    ink,
    pdfium_page,
    pdfium_text,
    poppler_fonts,
    poppler_page,
    poppler_text,
    require_poppler,
    wording,
)
from tests.support.settings import make_settings
from tests.support.takedown import Picture, case_with_urls, decide, notice_for

ACTOR = audit.Actor(ActorKind.USER, None)
#: What a reader must never see: the codes behind statuses and categories.
RAW_CODES = re.compile(
    r"partially_removed|self_generated_minor|adult_ncii|still_up|not_found|\bpending\b|\bqueued\b"
)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
#: What a reader must never see: the codes behind statuses and categories.
RAW_CODES = re.compile(
    r"partially_removed|self_generated_minor|adult_ncii|still_up|not_found|\bpending\b|\bqueued\b"
)
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
    zh, en = wording("zh_TW"), wording("en")
    html = to_html(report, zh)
    assert minor.reference in html and adult.reference in html and "論壇" in html
    assert "=legal under our terms" in html  # the platform's reason, for the authority
    assert "https://img.forum.example/9b.jpg" in html  # the picture still up
    assert "仍在線上（HTTP 200）" in html
    assert '<html lang="zh-TW">' in html
    # Times on Taipei's clock: sent 09:00 UTC is 17:00 there; the report names the zone.
    assert "2026-11-01 17:00 UTC+8" in html and "Asia/Taipei" in html
    english = to_html(report, en)
    assert "Still online (HTTP 200)" in english and "Intimate image of a minor" in english
    for document in (html, english):
        assert not RAW_CODES.search(document), RAW_CODES.findall(document)

    body = to_csv(report, zh)
    assert body.startswith(b"\xef\xbb\xbf")  # Excel on zh-TW Windows reads UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["通知", "平臺", "通知狀態", "寄出時間（Asia/Taipei）"]
    assert rows[0][-3:] == ["平臺的回覆", "平臺提出的理由", "仍在網路上的圖片"]
    assert [r[0] for r in rows[1:]] == [minor.reference, adult.reference]
    assert rows[1][3] == "2026-11-01 17:00" and rows[1][5] == "56.0" and rows[1][10] == "1"
    assert rows[1][6] == "https://fast.example/=cmd|1"  # not a formula: starts with h
    assert rows[1][12] == "仍在線上（HTTP 200）"
    assert rows[2][-2] == "'=legal under our terms"  # kept from running as a formula
    assert rows[2][-1] == "https://img.forum.example/9b.jpg"
    assert rows[2][-3] == "平臺拒絕移除"
    assert not RAW_CODES.search(body.decode("utf-8-sig"))


def test_the_pdf_renders_chinese_in_poppler_and_pdfium(
    session: Session, policy: NoticePolicy
) -> None:
    """The old PDF named a font for the viewer to supply (MSung-Light with a GB CMap)
    and came out blank in poppler; this one carries Noto Sans CJK TC inside."""
    require_poppler()
    _sent_notice(
        session,
        policy,
        "論壇",
        ["https://forum.example/p/9"],
        Classification.SELF_GENERATED_MINOR,
    )
    now = T0 + timedelta(hours=30)
    report = build_report(session, overdue_notices(session, now), now=now, hotline="兒少熱線")
    pdf = to_pdf(report, wording("zh_TW"))
    text = poppler_text(pdf)
    for words in (
        "兒少熱線：逾期未移除的通知",
        "未成年人自行拍攝的私密影像",
        "2026-11-01 17:00 UTC+8",
    ):
        assert words in text, words
    assert not RAW_CODES.search(text)
    assert ink(poppler_page(pdf)) > 0.01  # a page of tables and text, not a blank page
    assert all(font.embedded for font in poppler_fonts(pdf))
    assert "逾期未移除的通知" in pdfium_text(pdf)
    assert ink(pdfium_page(pdf)) > 0.01
    assert "Overdue by" in poppler_text(to_pdf(report, wording("en")))


def platform_figures(session: Session, now: datetime) -> list[RemovalFigures]:
    """The dashboard's figures per platform: the statistics module's, for 2026."""
    return removal_figures(session, Filter(Period.year(2026, ZoneInfo("Asia/Taipei"))), now)


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
    assert set(figures) == {"Fast Site", "Slow Site", ""}  # "": every platform
    quick = figures["Fast Site"]
    assert (quick.notices, quick.pages, quick.removed) == (1, 1, 1)  # one page, two cases
    assert quick.time_to_removal.median_hours == 3.0
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
    figures, _overall = platform_figures(session, T0 + timedelta(hours=2))
    assert (figures.refused, figures.removed, figures.overdue) == (1, 0, 0)
    assert not notice.status.is_open


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
