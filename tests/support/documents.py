"""Reading PDFs back the way readers do: poppler (pdftotext, pdftoppm, pdffonts: the
engine of Evince, Okular and most Linux viewers) and PDFium (Chrome's and Edge's
built-in viewer, through pypdfium2), plus a Wording for tests.

poppler comes from Debian's poppler-utils (``scripts/install-test-deps``); without it
the tests that need it skip, except under CI, where they fail (``require_or_skip``).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass

from PIL import Image

from reclaim.documents.words import Wording
from reclaim.domain.languages import Language
from reclaim.domain.times import zone_named
from reclaim.takedown.labels import LABELS
from reclaim.web.i18n import Catalogs
from tests.support.settings import require_or_skip

_catalogs: Catalogs | None = None


def wording(language: str = "zh_TW", zone: str = "Asia/Taipei") -> Wording:
    """The real catalogs and labels, as the console gives them to a document."""
    global _catalogs  # noqa: PLW0603 - the catalogs are read once per test process
    if _catalogs is None:
        _catalogs = Catalogs("zh_TW")
    return Wording(
        language=Language(language),
        translate=_catalogs.get(language).gettext,
        labels=LABELS,
        zone=zone_named(zone),
    )


def require_poppler() -> None:
    for tool in ("pdftotext", "pdftoppm", "pdffonts", "pdfimages"):
        if shutil.which(tool) is None:
            require_or_skip(f"{tool} not found: apt-get install poppler-utils")


def _run(*command: str, pdf: bytes) -> bytes:
    return subprocess.run([*command], input=pdf, capture_output=True, check=True, timeout=60).stdout


def poppler_text(pdf: bytes) -> str:
    """What pdftotext reads from the PDF (all pages)."""
    return _run("pdftotext", "-enc", "UTF-8", "-", "-", pdf=pdf).decode("utf-8")


def poppler_page(pdf: bytes, page: int = 1, dpi: int = 60) -> Image.Image:
    """One page as pdftoppm draws it, in grey."""
    pgm = _run("pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), pdf=pdf)
    return Image.open(io.BytesIO(pgm)).convert("L")


@dataclass(frozen=True, slots=True)
class EmbeddedFont:
    name: str
    kind: str
    embedded: bool
    subset: bool
    unicode: bool


def poppler_fonts(pdf: bytes) -> list[EmbeddedFont]:
    """``pdffonts``: every font the PDF uses, and whether it carries it."""
    lines = _run("pdffonts", "-", pdf=pdf).decode("utf-8").splitlines()[2:]
    fonts = []
    for line in lines:
        # name, type (may hold spaces), encoding, emb, sub, uni, object id, generation
        parts = line.split()
        fonts.append(
            EmbeddedFont(
                name=parts[0],
                kind=" ".join(parts[1:-6]),
                embedded=parts[-5] == "yes",
                subset=parts[-4] == "yes",
                unicode=parts[-3] == "yes",
            )
        )
    return fonts


def poppler_images(pdf: bytes) -> list[str]:
    """``pdfimages -list``: one line per image placed in the PDF."""
    return _run("pdfimages", "-list", "-", pdf=pdf).decode("utf-8").splitlines()[2:]


def pdfium_text(pdf: bytes, page: int = 1) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        text: str = document[page - 1].get_textpage().get_text_bounded()
        return text
    finally:
        document.close()


def pdfium_page(pdf: bytes, page: int = 1, dpi: int = 60) -> Image.Image:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image: Image.Image = document[page - 1].render(scale=dpi / 72).to_pil()
        return image.convert("RGB")
    finally:
        document.close()


def ink(image: Image.Image) -> float:
    """The share of the page that is drawn on (dark pixels): 0 for a blank page."""
    histogram = image.convert("L").histogram()
    return sum(histogram[:128]) / (image.width * image.height)
