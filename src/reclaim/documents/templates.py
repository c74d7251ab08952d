"""Jinja for documents and pages: the filters that turn data into words.

Every template that shows a status or a time to a person goes through these filters,
the console's pages and the documents alike, so there is one way a time is written and
one label for each status:

- ``{{ moment | when }}`` — ``<time datetime="…UTC…">2026-11-02 17:00 UTC+8</time>``
  on the operator's clock (``—`` for no time); ``| local_time`` is the same as plain text
  (for inside a sentence or a CSV cell), ``| local_date`` the day alone;
- ``{{ status | label }}`` — the translated label of an enum member;
- ``{{ line.what | text }}`` — a :class:`~reclaim.documents.words.Text`, translated.

They read the rendering's :class:`~reclaim.documents.words.Wording` from the template
context (``wording``), which the web layer adds to every page and :func:`render` to
every document.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from reclaim.documents.words import Text, Wording

DOCUMENT_TEMPLATES = Path(__file__).parent / "templates"


def _wording(context: Context) -> Wording:
    wording: Wording = context["wording"]
    return wording


@pass_context
def label(context: Context, member: enum.Enum) -> str:
    return _wording(context).label(member)


@pass_context
def text(context: Context, words: Text) -> str:
    return _wording(context).text(words)


@pass_context
def local_time(context: Context, moment: datetime | None) -> str:
    return _wording(context).time(moment)


@pass_context
def local_date(context: Context, moment: datetime | None) -> str:
    return _wording(context).date(moment) if moment is not None else "—"


@pass_context
def when(context: Context, moment: datetime | None) -> Markup:
    """The time on the operator's clock, in a ``<time>`` element that keeps the instant."""
    if moment is None:
        return Markup("—")
    instant = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        instant.isoformat(timespec="seconds"), _wording(context).time(moment)
    )


def css_string(value: str) -> str:
    """A CSS string literal."""
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return '"' + escaped.replace("\n", "\\a ") + '"'


#: Stand-ins for the page counters in a translated footer (see ``css_content``).
PAGE, PAGES = "[[page]]", "[[pages]]"


def css_content(value: str) -> Markup:
    """A ``content:`` value from text in which PAGE and PAGES stand for the counters:
    ``Page [[page]] of [[pages]]`` -> ``"Page " counter(page) " of " counter(pages)``."""
    parts: list[str] = []
    for chunk in str(value).split(PAGES):
        pieces = chunk.split(PAGE)
        for i, piece in enumerate(pieces):
            if i:
                parts.append("counter(page)")
            parts.append(css_string(piece))
        parts.append("counter(pages)")
    return Markup(" ".join(parts[:-1]))  # noqa: S704 - every text part went through css_string


FILTERS: dict[str, Any] = {
    "label": label,
    "text": text,
    "local_time": local_time,
    "local_date": local_date,
    "when": when,
    "css_content": css_content,
}


def install_filters(environment: Environment) -> None:
    """Give an environment the filters (the web app's and the documents')."""
    environment.filters.update(FILTERS)


def environment(*template_dirs: Path) -> Environment:
    """An environment for documents: the feature's templates, then the shared ones."""
    env = Environment(
        loader=FileSystemLoader([*template_dirs, DOCUMENT_TEMPLATES]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    install_filters(env)
    return env


def render(env: Environment, template: str, wording: Wording, **context: Any) -> str:
    """Render a document template in the wording's language."""
    return env.get_template(template).render(
        wording=wording,
        _=wording.say,
        lang=wording.language.tag,
        PAGE=PAGE,
        PAGES=PAGES,
        **context,
    )
