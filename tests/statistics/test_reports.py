"""The monthly report as a reader opens it: PDF with the Chinese text visible in poppler
and PDFium, the font inside, the charts drawn; CSV with a byte-order mark."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from reclaim.demo.history import make_history
from reclaim.documents.pdf import html_to_pdf
from reclaim.statistics import reports
from reclaim.statistics.domain import Period
from tests.support.documents import (
    ink,
    pdfium_text,
    poppler_fonts,
    poppler_page,
    poppler_text,
    require_poppler,
    wording,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def october(session: Session) -> reports.Report:
    make_history(session, months=3, end=NOW, cases_per_month=30, seed=11)
    session.commit()
    return reports.build(
        session,
        reports.ReportKind.MONTHLY,
        Period.month(2026, 10, TAIPEI),
        hotline="Reclaim",
        now=NOW,
    )


def test_the_monthly_pdf_shows_chinese_text_in_poppler_and_pdfium(october: reports.Report) -> None:
    require_poppler()
    pdf = reports.render(october, "pdf", wording("zh_TW"))
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    text = poppler_text(pdf).replace("\n", "")
    assert "2026-10 每月統計" in text
    assert "各平臺移除情形" in text and "Synthetic Tube" in text
    assert "依剝削類型的檢舉與案件數" in text
    fonts = poppler_fonts(pdf)
    assert fonts and all(f.embedded for f in fonts), fonts
    assert any("Noto-Sans-CJK-TC" in f.name for f in fonts)
    assert ink(poppler_page(pdf)) > 0.002
    assert "每月統計" in pdfium_text(pdf).replace("\r\n", "").replace("\n", "")


def test_the_charts_are_drawn_in_the_pdf(october: reports.Report) -> None:
    require_poppler()
    html = reports.to_html(october, wording("en"))
    assert html.count('<img src="data:image/svg+xml;base64,') == 3
    with_charts = html_to_pdf(html)
    without = html_to_pdf(re.sub(r'<img src="data:image/svg[^>]*>', "", html))
    drawn = sum(ink(poppler_page(with_charts, page=n)) for n in range(1, 4))
    bare = sum(ink(poppler_page(without, page=n)) for n in range(1, 3))
    assert drawn > bare + 0.02


def test_the_report_figures_export_as_csv_with_a_bom_and_as_json(october: reports.Report) -> None:
    csv = reports.render(october, "csv", wording("en"))
    assert isinstance(csv, bytes) and csv.startswith(b"\xef\xbb\xbf")
    body = reports.render(october, "json", wording("en"))
    assert isinstance(body, bytes) and b'"schema": 1' in body
    assert reports.filename(october, "pdf", wording("zh_TW")) == "reclaim-monthly-2026-10-zh_TW.pdf"
