"""Words for people: one label per status, sentences translated late, times on the
operator's clock."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import pytest
from jinja2 import DictLoader

from reclaim.documents import templates
from reclaim.documents.words import Labels, Text, _
from reclaim.takedown.domain import NoticeStatus, PageOutcome, VerificationOutcome
from tests.support.documents import wording

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"


class Fruit(enum.StrEnum):
    RED = "red"  # the same value as Colour.RED: equal as str, distinct as labels


def test_labels_are_kept_per_enum_even_when_values_collide() -> None:
    labels = Labels({Colour.RED: "Red colour", Colour.GREEN: "Green"}, {Fruit.RED: "Red fruit"})
    assert labels.message(Colour.RED) == "Red colour"
    assert labels.message(Fruit.RED) == "Red fruit"
    with pytest.raises(KeyError):
        labels.message("red")  # type: ignore[arg-type]  # a raw code has no label
    assert Labels({Colour.RED: "Red"}).unlabelled() == [Colour.GREEN]
    assert len({Colour.RED: "Red colour", Fruit.RED: "Red fruit"}) == 1  # why: one flat dict
    with pytest.raises(ValueError, match="one enum"):
        Labels({Colour.RED: "Red", PageOutcome.PENDING: "Waiting"})


def test_sentences_are_translated_when_rendered() -> None:
    checked = Text(
        _("%(outcome)s (HTTP %(status)s)"), outcome=VerificationOutcome.STILL_UP, status=200
    )
    assert wording("en").text(checked) == "Still online (HTTP 200)"
    assert wording("zh_TW").text(checked) == "仍在線上（HTTP 200）"
    assert wording("zh_TW").label(NoticeStatus.PARTIALLY_REMOVED) == "部分移除"
    # Equal as str, different labels: the notice's "removed" and the check's.
    assert wording("en").label(PageOutcome.REMOVED) == "Removed"
    assert wording("en").label(VerificationOutcome.REMOVED) == "Gone"
    assert wording("en").say(
        _("Generated %(time)s. Times are on the clock of %(zone)s."), time=T, zone="Asia/Taipei"
    ) == ("Generated 2026-11-02 17:00 UTC+8. Times are on the clock of Asia/Taipei.")


def test_template_filters_write_times_and_statuses_one_way() -> None:
    env = templates.environment()
    env.loader = DictLoader(
        {
            "t.html": "{{ moment | when }}|{{ moment | local_time }}|{{ none | when }}|"
            "{{ late | local_date }}|{{ status | label }}|{{ words | text }}",
        }
    )
    late = datetime(2026, 11, 2, 20, 30, tzinfo=UTC)  # already the next day in Taipei
    out = templates.render(
        env,
        "t.html",
        wording("zh_TW"),
        moment=T,
        none=None,
        late=late,
        status=NoticeStatus.REFUSED,
        words=Text(_("Notice drafted")),
    )
    assert out == (
        '<time datetime="2026-11-02T09:00:00+00:00">2026-11-02 17:00 UTC+8</time>|'
        "2026-11-02 17:00 UTC+8|—|2026-11-03|平臺拒絕移除|通知已草擬"
    )
    assert "2026-11-02 09:00 UTC" in templates.render(
        env,
        "t.html",
        wording("en", zone="UTC"),
        moment=T,
        none=None,
        late=late,
        status=NoticeStatus.REFUSED,
        words=Text(_("Notice drafted")),
    )


def test_page_footers_are_translated_with_counters() -> None:
    assert templates.css_content("第 [[page]] 頁，共 [[pages]] 頁") == (
        '"第 " counter(page) " 頁，共 " counter(pages) " 頁"'
    )
    assert templates.css_content('a"b\\c') == '"a\\"b\\\\c"'
