"""Every translatable string must be in both catalogs, translated."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from reclaim.web import i18n
from reclaim.web.i18n import LANGUAGES, read_catalog

SOURCE = Path(__file__).resolve().parents[2] / "src" / "reclaim"
METHODS = [
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("**/templates/**.txt", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
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
    catalog = read_catalog(language)
    translated = {
        str(m.id) if isinstance(m.id, str) else str(m.id[0]) for m in catalog if m.id and m.string
    }
    missing = sorted(_extracted() - translated)
    assert missing == [], f"missing from the {language} catalog"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_catalogs_carry_no_stale_strings(language: str) -> None:
    """A string removed from the code leaves the catalogs too (they stay reviewable)."""
    extracted = _extracted()
    ids = (m.id if isinstance(m.id, str) else m.id[0] for m in read_catalog(language) if m.id)
    stale = sorted(str(i) for i in ids if str(i) not in extracted)  # plurals by their singular
    assert stale == [], f"in the {language} catalog but no longer in the code"


def test_a_message_in_two_catalogs_must_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "a.po").write_text('msgid "Save"\nmsgstr "Save"\n', "utf-8")
    (folder / "b.po").write_text('msgid "Save"\nmsgstr "Save"\n', "utf-8")
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    assert i18n.read_catalog("en").get("Save").string == "Save"
    (folder / "b.po").write_text('msgid "Save"\nmsgstr "Keep"\n', "utf-8")
    with pytest.raises(ValueError, match="translated differently"):
        i18n.read_catalog("en")
