"""The escalation PDF in pdf.js (Firefox's built-in viewer), in Chromium: the
Traditional Chinese text comes out and the page is drawn on.

pdf.js comes from the npm registry (``pdfjs-dist``, installed by
``scripts/install-test-deps`` into node_modules/); poppler and PDFium are checked in
tests/takedown/test_escalation.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reclaim.cases.domain import Classification
from reclaim.documents.words import Text, _
from reclaim.takedown.domain import NoticeStatus, PageOutcome, VerificationOutcome
from reclaim.takedown.escalation import (
    EscalatedItem,
    EscalatedNotice,
    EscalationReport,
    HistoryLine,
    to_pdf,
)
from tests.browser.conftest import PAGES_DIR, REPO, StaticSite
from tests.support.documents import wording
from tests.support.settings import require_or_skip

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PDFJS = REPO / "node_modules" / "pdfjs-dist" / "build"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _report() -> EscalationReport:
    check = Text(
        _("%(outcome)s (HTTP %(status)s)"), outcome=VerificationOutcome.STILL_UP, status=200
    )
    item = EscalatedItem(
        url="https://forum.example/p/9?ref=a&b=1",
        category=Classification.SELF_GENERATED_MINOR,
        outcome=PageOutcome.PENDING,
        removed_at=None,
        verifications=[HistoryLine(T0 + timedelta(hours=1), check)],
    )
    notice = EscalatedNotice(
        reference="RN-2026-000123",
        platform="論壇 Forum",
        status=NoticeStatus.PARTIALLY_REMOVED,
        sent_at=T0,
        deadline_at=T0 + timedelta(hours=24),
        overdue_by=timedelta(hours=6),
        items=[item],
        history=[HistoryLine(T0, Text(_("Notice delivered")))],
    )
    return EscalationReport(
        generated_at=T0 + timedelta(hours=30), hotline="兒少熱線", notices=[notice]
    )


def test_pdfjs_draws_the_chinese_report(page: Page, tmp_path: Path) -> None:
    if not (PDFJS / "pdf.mjs").is_file():
        require_or_skip(f"pdf.js is not installed at {PDFJS} (run scripts/install-test-deps)")
    (tmp_path / "report.pdf").write_bytes(to_pdf(_report(), wording("zh_TW")))
    mounts = {"/pdfjs/": PDFJS, "/pages/": PAGES_DIR, "/doc/": tmp_path}
    # pdf.js runs a worker and loads the PDF's fonts from memory.
    with StaticSite(mounts, csp="default-src 'self' blob: data:; object-src 'none'") as site:
        page.goto(site.url("/pages/pdfjs.html"))
        page.wait_for_function("window.pdfjsReady === true")
        result = page.evaluate("url => window.renderPdf(url)", site.url("/doc/report.pdf"))
    text = str(result["text"])
    for words in (
        "兒少熱線：逾期未移除的通知",
        "部分移除",
        "未成年人自行拍攝的私密影像",
        "仍在線上",
    ):
        assert words in text, words
    # A page of tables and text, drawn from the embedded font (system fonts are off).
    assert float(result["ink"]) > 0.01
