"""Words for people: messages translated when a document is rendered, labels for
statuses, and the clock times are read on.

A report is built once from the database, as data, then rendered in the reader's
language.  So the data carries no finished sentences: a status is its enum member (a
:class:`Labels` mapping gives its message id), a sentence is a :class:`Text` (a message
id and its values), a moment is an aware datetime.  A :class:`Wording` — one language's
translations, the labels and the operator's time zone — turns them into words at the
last moment.  Nothing a reader sees is a raw code such as ``partially_removed``.

Message ids are English and live in the catalogs (``web/translations``); code marks
them with ``_()`` so that the catalog test finds them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reclaim.domain.languages import Language
from reclaim.domain.times import date_for_people, for_people, for_spreadsheets

#: One language's gettext: message id -> translation.
Translate = Callable[[str], str]


def _(message: str) -> str:
    """Mark a message id for the catalogs; it is translated when rendered."""
    return message


class Text:
    """A sentence for people, kept as a message id and values until it is rendered.

    ``Text(_("Checked: %(outcome)s"), outcome=VerificationOutcome.STILL_UP)``.  Values
    that are enum members are shown by their label, datetimes on the operator's clock,
    nested Texts in the same language, anything else as it is (words from outside, such
    as a platform's reply, are never translated).
    """

    __slots__ = ("message", "values")

    def __init__(self, message: str, /, **values: object) -> None:
        self.message = message
        self.values: Mapping[str, object] = values

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Text)
            and other.message == self.message
            and dict(other.values) == dict(self.values)
        )

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        values = "".join(f", {k}={v!r}" for k, v in self.values.items())
        return f"Text({self.message!r}{values})"


class Labels:
    """Message ids for the members of enums: one mapping per enum.

    Kept per enum type because a ``StrEnum`` member equals its value: in one flat dict
    ``NoticeStatus.REMOVED`` and ``PageOutcome.REMOVED`` would be the same key.
    """

    def __init__(self, *mappings: Mapping[Any, str]) -> None:
        self._by_enum: dict[type[enum.Enum], Mapping[Any, str]] = {}
        for mapping in mappings:
            kinds = {type(member) for member in mapping}
            if len(kinds) != 1:
                raise ValueError("a label mapping covers exactly one enum")
            self._by_enum[kinds.pop()] = mapping

    def __iter__(self) -> Iterator[type[enum.Enum]]:
        return iter(self._by_enum)

    def __or__(self, other: Labels) -> Labels:
        return Labels(*self._by_enum.values(), *other._by_enum.values())

    def message(self, member: enum.Enum) -> str:
        """The message id for ``member``; a KeyError for an enum or member without one."""
        return self._by_enum[type(member)][member]

    def unlabelled(self) -> list[enum.Enum]:
        """Members of the covered enums that have no label (a test keeps this empty)."""
        return [
            member
            for kind, mapping in self._by_enum.items()
            for member in kind
            if member not in mapping
        ]


@dataclass(frozen=True, slots=True)
class Wording:
    """How one rendering speaks: a language, its translations, labels and a clock."""

    language: Language
    translate: Translate
    labels: Labels
    zone: ZoneInfo

    def say(self, message: str, /, **values: object) -> str:
        """Translate ``message`` and fill in its values (the templates' ``_``)."""
        translated = self.translate(message)
        if not values:
            return translated
        return translated % {name: self.word(value) for name, value in values.items()}

    def label(self, member: enum.Enum) -> str:
        return self.translate(self.labels.message(member))

    def text(self, text: Text) -> str:
        return self.say(text.message, **text.values)

    def time(self, moment: datetime | None) -> str:
        """``2026-11-02 17:00 UTC+8`` on the operator's clock; ``—`` for no time."""
        return for_people(moment, self.zone) if moment is not None else "—"

    def date(self, moment: datetime) -> str:
        return date_for_people(moment, self.zone)

    def spreadsheet_time(self, moment: datetime | None) -> str:
        return for_spreadsheets(moment, self.zone) if moment is not None else ""

    def word(self, value: object) -> object:
        """A value as it appears inside a sentence."""
        if isinstance(value, Text):
            return self.text(value)
        if isinstance(value, enum.Enum):
            return self.label(value)
        if isinstance(value, datetime):
            return self.time(value)
        return value
