"""Translations: Babel catalogs (zh_TW default, en), chosen per request.

Catalogs are kept as .po files only and compiled in memory at start-up, so there is no
binary .mo file to forget to rebuild.  Each language's ``LC_MESSAGES`` folder holds one
.po file per part of the application (``messages.po`` for the shared frame,
``portal.po``, ``console.po``, ...); they are merged into one catalog.  A message id in
two files must have the same translation in both.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from reclaim.domain.languages import Language

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
#: Catalog name -> the language's own name, for the language switch.
LANGUAGES: Mapping[str, str] = {language.value: language.native_name for language in Language}
DOMAIN = "messages"


def catalog_files(language: str) -> list[Path]:
    return sorted((TRANSLATIONS_DIR / language / "LC_MESSAGES").glob("*.po"))


def read_catalog(language: str) -> Catalog:
    """Every .po file of a language, merged."""
    merged = Catalog(locale=language, domain=DOMAIN)
    for path in catalog_files(language):
        with path.open("rb") as source:
            part = read_po(source, locale=language)
        for message in part:
            if not message.id:
                continue
            earlier = merged.get(message.id)
            if earlier is not None and earlier.string != message.string:
                # The same words translated two ways: which one a page gets would depend
                # on file order.  Refuse to start rather than guess.
                raise ValueError(
                    f"{path.name}: {message.id!r} is translated differently in another catalog"
                )
            merged[message.id] = message
    return merged


def load_catalog(language: str) -> Translations:
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(language))
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@dataclass(frozen=True, slots=True)
class Translator:
    """The gettext functions one request renders with."""

    language: str
    translations: Translations

    def gettext(self, message: str, **variables: Any) -> str:
        text: str = self.translations.ugettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        text: str = self.translations.ungettext(singular, plural, n)
        return text % {"num": n, **variables}

    def template_globals(self) -> dict[str, Callable[..., str] | str]:
        return {
            "_": self.gettext,
            "gettext": self.gettext,
            "ngettext": self.ngettext,
            "lang": self.language,
        }


class Catalogs:
    """All shipped languages, loaded once."""

    def __init__(self, default_language: str) -> None:
        self.default_language = default_language
        self._translators = {lang: Translator(lang, load_catalog(lang)) for lang in LANGUAGES}

    def get(self, language: str) -> Translator:
        return self._translators.get(language, self._translators[self.default_language])

    def negotiate(self, requested: str | None, accept_language: str | None) -> str:
        """Pick a language: an explicit choice, else the browser's, else the default."""
        if requested is not None and requested in LANGUAGES:
            return requested
        for part in (accept_language or "").split(","):
            tag = part.split(";")[0].strip().replace("-", "_").lower()
            if tag.startswith("zh") and ("tw" in tag or "hant" in tag or "hk" in tag):
                return Language.ZH_TW.value
            if tag.startswith("en"):
                return Language.EN.value
            if tag.startswith("zh"):
                return Language.ZH_TW.value
        return self.default_language
