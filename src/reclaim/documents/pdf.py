"""PDF from the same HTML a document is downloaded as (WeasyPrint).

Why WeasyPrint: one template gives the HTML and the PDF, so they never say different
things; CSS paged media gives page sizes, running footers and page numbers; it embeds
OpenType fonts with CFF outlines as they are (subset), so Noto Sans CJK TC — the best
Traditional Chinese font Debian ships, and CFF-flavoured — can be used; and images
(charts, as SVG or PNG) are placed like any ``<img>``.  (reportlab embeds TrueType
outlines only; fpdf2's CFF embedding drew some characters blank in pdf.js when we
measured it.  docs/architecture.md has the figures.)

Nothing is fetched while rendering: the fetcher accepts ``data:`` URLs only, and a
reference to anything else stops the rendering.  A document shows reported URLs as
text and must never reach for them (nor for files on the server).
"""

from __future__ import annotations

import base64
from typing import Any

from reclaim.documents.fonts import DOCUMENT_FONTS, FontFamily, FontMissingError, require_fonts


class DocumentRenderError(RuntimeError):
    """The PDF could not be made (a document referred to something outside itself)."""


class PdfUnavailableError(RuntimeError):
    """This machine cannot make PDFs: Pango (WeasyPrint's text layout) or a font is missing."""


#: What a Debian machine needs for PDFs (docs/documents.md); scripts/install-test-deps
#: installs the same.
DEBIAN_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-noto-cjk")


def check_pdf_support(fonts: tuple[FontFamily, ...] = DOCUMENT_FONTS) -> None:
    """Raise PdfUnavailableError, naming what to install, unless PDFs can be made here.

    ``reclaim serve`` calls this at start-up: in production a hotline that cannot hand
    the authority its report should not find out on the day it needs one.
    """
    try:
        import weasyprint  # noqa: F401 - loads Pango through cffi
    except OSError as exc:
        raise PdfUnavailableError(
            f"PDF documents need Pango ({exc}): apt-get install {' '.join(DEBIAN_PACKAGES)}"
        ) from exc
    try:
        require_fonts(fonts)
    except FontMissingError as exc:
        raise PdfUnavailableError(str(exc)) from exc


def html_to_pdf(html: str, *, fonts: tuple[FontFamily, ...] = DOCUMENT_FONTS) -> bytes:
    """The PDF of a self-contained HTML document (styles inline, images as data URLs).

    Raises :class:`PdfUnavailableError` when Pango or a document font is not
    installed, rather than make a PDF of boxes.
    """
    check_pdf_support(fonts)
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    try:
        document = HTML(string=html, url_fetcher=_data_urls_only())
        pdf: bytes = document.write_pdf(pdf_tags=True)
    except FatalURLFetchingError as exc:
        raise DocumentRenderError(str(exc)) from exc
    return pdf


def image_data_url(data: bytes, media_type: str) -> str:
    """A ``data:`` URL for an ``<img src>``: how charts go into documents."""
    if media_type not in ("image/png", "image/jpeg", "image/svg+xml"):
        raise ValueError(f"documents take PNG, JPEG or SVG images, not {media_type}")
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _data_urls_only() -> Any:
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=True)
