"""The languages Reclaim ships: catalogs, notices, reports and platforms all use these."""

from __future__ import annotations

import enum


class Language(enum.StrEnum):
    """A shipped language, by its catalog name (``zh_TW``)."""

    ZH_TW = "zh_TW"
    EN = "en"

    @property
    def tag(self) -> str:
        """The BCP 47 tag, for ``lang=`` and ``Content-Language`` (``zh-TW``)."""
        return self.value.replace("_", "-")

    @property
    def native_name(self) -> str:
        """The language's name in itself, for language switches."""
        return _NATIVE_NAMES[self]

    @classmethod
    def parse(cls, text: str) -> Language | None:
        """A shipped language from its catalog name or BCP 47 tag, else None."""
        wanted = text.strip().replace("-", "_").lower()
        return next((language for language in cls if language.value.lower() == wanted), None)


_NATIVE_NAMES = {Language.ZH_TW: "繁體中文", Language.EN: "English"}

#: Where nothing else decides: Reclaim's home is Taiwan.
DEFAULT_LANGUAGE = Language.ZH_TW
