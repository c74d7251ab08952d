"""PDFs that render everywhere: Traditional Chinese text comes out of poppler and
PDFium, the page is drawn on (not blank), the font travels inside the file, and a
document fetches nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from reclaim.documents.fonts import (
    DOCUMENT_FONT,
    FontFamily,
    FontMissingError,
    find_font,
    require_fonts,
)
from reclaim.documents.pdf import (
    DocumentRenderError,
    PdfUnavailableError,
    check_pdf_support,
    html_to_pdf,
    image_data_url,
)
from tests.support.documents import (
    ink,
    pdfium_page,
    pdfium_text,
    poppler_fonts,
    poppler_images,
    poppler_page,
    poppler_text,
    require_poppler,
)
from tests.support.http import LoopbackServer, send

SENTENCE = "兒少性剝削內容仍在線上：請於期限內移除。Removal requested."


def _document(body: str) -> str:
    return (
        '<!doctype html><html lang="zh-TW"><head><meta charset="utf-8"><title>測試</title>'
        '<style>html { font-family: "Noto Sans CJK TC"; font-size: 14pt; }</style>'
        f"</head><body>{body}</body></html>"
    )


@pytest.fixture(scope="module")
def chinese_pdf() -> bytes:
    return html_to_pdf(_document(f"<h1>逾期通知</h1><p>{SENTENCE}</p>"))


def test_poppler_reads_the_chinese_text_and_draws_the_page(chinese_pdf: bytes) -> None:
    require_poppler()
    assert SENTENCE in poppler_text(chinese_pdf).replace("\n", "")
    # A page with a heading and a sentence is a few per cent ink; a blank one is none
    # (the old report, with a font the viewer had to supply, rendered blank here).
    assert ink(poppler_page(chinese_pdf)) > 0.002
    assert ink(poppler_page(html_to_pdf(_document("")))) == 0


def test_the_font_travels_inside_the_pdf(chinese_pdf: bytes) -> None:
    require_poppler()
    fonts = poppler_fonts(chinese_pdf)
    assert fonts, "no font at all"
    assert all(f.embedded and f.subset and f.unicode for f in fonts), fonts
    assert {f.name.split("+", 1)[1] for f in fonts} <= {
        "Noto-Sans-CJK-TC",
        "Noto-Sans-CJK-TC-Bold",
    }


def test_pdfium_reads_and_draws_it_too(chinese_pdf: bytes) -> None:
    """PDFium is the engine of Chrome's and Edge's PDF viewers."""
    assert SENTENCE in pdfium_text(chinese_pdf).replace("\r\n", "").replace("\n", "")
    assert ink(pdfium_page(chinese_pdf)) > 0.002


def test_a_chart_is_placed_as_an_image() -> None:
    require_poppler()
    picture = Image.new("RGB", (120, 60), (20, 90, 200))
    png = io.BytesIO()
    picture.save(png, "PNG")
    pdf = html_to_pdf(
        _document(
            f'<p>圖表</p><img alt="圖表" src="{image_data_url(png.getvalue(), "image/png")}">'
        )
    )
    assert len(poppler_images(pdf)) == 1
    page = pdfium_page(pdf).convert("RGB")
    assert (20, 90, 200) in {page.getpixel((x, y)) for x in range(page.width) for y in range(200)}
    with pytest.raises(ValueError, match="PNG, JPEG or SVG"):
        image_data_url(b"GIF89a", "image/gif")


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_a_document_fetches_nothing(scheme: str) -> None:
    """Reported URLs appear in documents as text; rendering must never reach for them."""
    site = LoopbackServer().start()
    site.routes["/picture.png"] = lambda handler: send(handler, 200, b"x", "image/png")
    try:
        source = site.url("/picture.png") if scheme == "http" else "file:///etc/hostname"
        with pytest.raises(DocumentRenderError):
            html_to_pdf(_document(f'<p>外部</p><img src="{source}">'))
        assert site.connections == 0
    finally:
        site.stop()


def test_a_missing_font_is_refused_with_the_package_to_install() -> None:
    assert find_font(DOCUMENT_FONT.name) is not None, "fonts-noto-cjk is not installed"
    missing = FontFamily("Reclaim No Such Font TC", "fonts-reclaim-nothing")
    assert find_font(missing.name) is None  # fontconfig would have substituted another
    with pytest.raises(FontMissingError, match="apt-get install fonts-reclaim-nothing"):
        require_fonts((DOCUMENT_FONT, missing))
    with pytest.raises(PdfUnavailableError, match="fonts-reclaim-nothing"):
        html_to_pdf(_document("<p>字</p>"), fonts=(missing,))


def test_start_up_can_tell_whether_pdfs_can_be_made() -> None:
    check_pdf_support()  # this machine has Pango and the fonts
    with pytest.raises(PdfUnavailableError, match="fonts-reclaim-nothing"):
        check_pdf_support((FontFamily("Reclaim No Such Font TC", "fonts-reclaim-nothing"),))
