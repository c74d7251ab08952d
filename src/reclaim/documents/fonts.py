"""The fonts documents are set in, and the check that they are installed.

PDFs embed their fonts (a subset: only the glyphs used), so a report reads the same in
every viewer — poppler (Evince, Okular, pdftoppm), PDFium (Chrome, Edge) and pdf.js
(Firefox) — whether or not the reader has Chinese fonts.  The one family is Noto Sans
CJK TC: Traditional Chinese with Taiwan's standard character forms, and Latin letters
that match.  Debian ships it in ``fonts-noto-cjk`` (OpenType with CFF outlines, which
WeasyPrint embeds as they are).

WeasyPrint finds fonts through fontconfig, and fontconfig quietly substitutes another
font for a missing one — a report in boxes or blanks.  :func:`require_fonts` asks
fontconfig itself (the library Pango uses, through ctypes) which font it would use, and
refuses with the package to install when it is not ours.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FontFamily:
    name: str  # as fontconfig and CSS call it
    package: str  # the Debian package that installs it


#: The family every document is set in (``documents/templates/document.css``).
DOCUMENT_FONT = FontFamily("Noto Sans CJK TC", "fonts-noto-cjk")
DOCUMENT_FONTS = (DOCUMENT_FONT,)


class FontMissingError(RuntimeError):
    """A document font is not installed: a PDF would show boxes or nothing."""


@dataclass(frozen=True, slots=True)
class FoundFont:
    family: str
    file: Path


def find_font(family: str) -> FoundFont | None:
    """The font fontconfig chooses for ``family``, or None when it would substitute one."""
    found = _fontconfig_match(family)
    if found is None or found.family.casefold() != family.casefold():
        return None
    return found


def require_fonts(families: tuple[FontFamily, ...] = DOCUMENT_FONTS) -> list[FoundFont]:
    """Every document font, or FontMissingError naming the packages to install."""
    found, missing = [], []
    for family in families:
        font = find_font(family.name)
        if font is None:
            missing.append(family)
        else:
            found.append(font)
    if missing:
        names = ", ".join(f.name for f in missing)
        packages = " ".join(sorted({f.package for f in missing}))
        raise FontMissingError(
            f"PDF documents need the font {names}, which is not installed: "
            f"apt-get install {packages} (see docs/documents.md)"
        )
    return found


# --- fontconfig, through ctypes ------------------------------------------------------
# Pango (and so WeasyPrint) resolves families with fontconfig; asking fontconfig the
# same question is the only check that agrees with what a PDF will contain.

_MATCH_PATTERN = 0  # FcMatchPattern
_RESULT_MATCH = 0  # FcResultMatch


@cache
def _fontconfig() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("fontconfig") or "libfontconfig.so.1"
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    pointer = ctypes.c_void_p
    library.FcInitLoadConfigAndFonts.restype = pointer
    library.FcNameParse.restype = pointer
    library.FcNameParse.argtypes = [ctypes.c_char_p]
    library.FcConfigSubstitute.argtypes = [pointer, pointer, ctypes.c_int]
    library.FcDefaultSubstitute.argtypes = [pointer]
    library.FcFontMatch.restype = pointer
    library.FcFontMatch.argtypes = [pointer, pointer, ctypes.POINTER(ctypes.c_int)]
    library.FcPatternGetString.argtypes = [
        pointer,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_char_p),
    ]
    library.FcPatternDestroy.argtypes = [pointer]
    library.FcConfigDestroy.argtypes = [pointer]
    return library


def _fontconfig_match(family: str) -> FoundFont | None:
    library = _fontconfig()
    if library is None:
        return None
    config = library.FcInitLoadConfigAndFonts()
    pattern = library.FcNameParse(family.replace("-", r"\-").encode())
    try:
        library.FcConfigSubstitute(config, pattern, _MATCH_PATTERN)
        library.FcDefaultSubstitute(pattern)
        result = ctypes.c_int()
        match = library.FcFontMatch(config, pattern, ctypes.byref(result))
        if not match:
            return None
        try:
            chosen, path = ctypes.c_char_p(), ctypes.c_char_p()
            if (
                library.FcPatternGetString(match, b"family", 0, ctypes.byref(chosen))
                != _RESULT_MATCH
                or library.FcPatternGetString(match, b"file", 0, ctypes.byref(path))
                != _RESULT_MATCH
                or chosen.value is None
                or path.value is None
            ):
                return None
            return FoundFont(chosen.value.decode(), Path(path.value.decode()))
        finally:
            library.FcPatternDestroy(match)
    finally:
        library.FcPatternDestroy(pattern)
        library.FcConfigDestroy(config)
