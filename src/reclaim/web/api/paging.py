"""Cursor paging for the API's lists: a cursor is the id of the previous page's last row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from reclaim.banks.feed import CursorError, parse_cursor
from reclaim.web.api.errors import ApiError, ErrorBody

#: The ``responses`` entry of an operation that takes a cursor.
CURSOR_ERROR: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "A cursor this API did not give out."}
}


class Row(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Row)


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    rows: Sequence[R]
    next_cursor: str
    has_more: bool


def cursor_position(cursor: str | None) -> int:
    """The id the page starts after; 400 for a cursor this API did not give out."""
    try:
        return parse_cursor(cursor)
    except CursorError as exc:
        raise ApiError(400, "invalid_cursor", str(exc)) from None


def page_of(rows: Sequence[R], *, limit: int, after: int) -> Page[R]:
    """``rows`` as read with ``limit + 1``: the extra row only tells that there is more."""
    shown = rows[:limit]
    return Page(shown, str(shown[-1].id if shown else after), len(rows) > limit)
