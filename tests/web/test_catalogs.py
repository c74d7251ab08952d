"""Every translatable string must be in both catalogs, translated."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from reclaim.web.i18n import LANGUAGES, TRANSLATIONS_DIR

SOURCE = Path(__file__).resolve().parents[2] / "src" / "reclaim"
METHODS = [
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("**/templates/**.txt", "jinja2.ext:babel_extract"),
    ("web/**.py", "python"),
    ("services/**.py", "python"),
]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> set[str]:
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        SOURCE, METHODS, OPTIONS, keywords={"_": None, "gettext": None, "ngettext": (1, 2)}
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def test_strings_are_found() -> None:
    assert "Skip to content" in _extracted()


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_catalog_is_complete(language: str) -> None:
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=language)
    translated = {
        str(m.id) if isinstance(m.id, str) else str(m.id[0]) for m in catalog if m.id and m.string
    }
    missing = sorted(_extracted() - translated)
    assert missing == [], f"missing from the {language} catalog"
