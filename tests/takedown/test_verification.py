"""Verification against loopback 'platforms' that take content down after the k-th look."""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.cases.models import QuarantinedMedia
from reclaim.fetching import FetchPolicy, SafeFetcher, parse_allowlist
from reclaim.platforms.directory import PlatformRecord, import_records
from reclaim.takedown.domain import ItemOutcome, NoticeStatus, VerificationOutcome
from reclaim.takedown.models import NoticeItem, Verification
from reclaim.takedown.notices import NoticePolicy
from reclaim.takedown.verification import due_items, time_to_removal, verify_item
from tests.support.clock import FakeClock
from tests.support.http import Handler, LoopbackServer, png_bytes, send
from tests.support.settings import make_settings
from tests.support.takedown import case_with_urls, notice_for

ACTOR = audit.Actor(ActorKind.USER, None)
FOLLOW_UP = timedelta(days=30)


def after(k: int, first: tuple[int, bytes, str], then: tuple[int, bytes, str]):  # type: ignore[no-untyped-def]
    """A route that answers `first` for k requests and `then` afterwards."""
    seen = {"n": 0}

    def route(handler: Handler) -> None:
        seen["n"] += 1
        status, body, content_type = first if seen["n"] <= k else then
        send(handler, status, body, content_type)

    return route


@pytest.fixture
def platform_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture
def fetcher() -> SafeFetcher:
    return SafeFetcher(
        FetchPolicy(
            total_timeout=5.0,
            connect_timeout=2.0,
            read_timeout=2.0,
            allowlist=parse_allowlist(["127.0.0.1/32"]),
        )
    )


def _noticed(session: Session, urls: list[str], clock: FakeClock, tmp_path) -> list[NoticeItem]:  # type: ignore[no-untyped-def]
    import_records(
        session, [PlatformRecord("Loop", (), abuse_email="abuse@loop.example")], actor=ACTOR
    )
    from reclaim.platforms.models import Platform

    platform = session.scalars(select(Platform)).one()
    case = case_with_urls(session, urls, platform=platform)
    policy = NoticePolicy.from_settings(make_settings(tmp_path))
    notice, _ = notice_for(session, case, policy, clock=clock)
    return list(notice.items)


def test_removal_after_the_kth_check_in_each_way(
    session: Session, platform_server: LoopbackServer, fetcher: SafeFetcher, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    image = png_bytes()
    other = png_bytes(color=(10, 200, 10))
    page_with = f'<html><img src="{platform_server.url("/m.png")}"></html>'.encode()
    page_without = b"<html><p>This post was removed.</p></html>"
    platform_server.routes.update(
        {
            "/a.png": after(2, (200, image, "image/png"), (404, b"", "text/plain")),
            "/b.png": after(1, (200, image, "image/png"), (410, b"", "text/plain")),
            "/c.png": after(1, (200, image, "image/png"), (200, other, "image/png")),
            "/page": after(2, (200, page_with, "text/html"), (200, page_without, "text/html")),
            "/m.png": lambda h: send(h, 200, image, "image/png"),
            "/never.png": lambda h: send(h, 200, image, "image/png"),
        }
    )
    clock = FakeClock(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    urls = [platform_server.url(p) for p in ("/a.png", "/b.png", "/c.png", "/page", "/never.png")]
    items = _noticed(session, urls, clock, tmp_path)
    notice = items[0].notice
    # The page was fetched for review: its image is what was noticed.
    session.add(
        QuarantinedMedia(
            item_id=items[3].item_id,
            object_id="q1",
            final_url=platform_server.url("/m.png"),
            content_type="image/png",
            size=len(image),
            sha256=hashlib.sha256(image).hexdigest(),
            expires_at=clock.now + timedelta(days=30),
        )
    )
    session.flush()
    outcomes: dict[str, list[str]] = {u: [] for u in urls}
    for _ in range(4):
        clock.now += timedelta(hours=30)
        for item_id in due_items(session, clock=clock):
            item = session.get_one(NoticeItem, item_id)
            check = verify_item(session, item, fetcher, follow_up=FOLLOW_UP, clock=clock)
            outcomes[item.item.url or ""].append(check.outcome.value)
    a, b, c, page, never = urls
    assert outcomes[a] == ["still_up", "still_up", "removed"]
    assert outcomes[b] == ["still_up", "removed"]
    assert outcomes[c] == ["still_up", "changed", "changed", "changed"]
    assert outcomes[never] == ["still_up"] * 4
    assert outcomes[page] == ["still_up", "still_up", "removed"]  # the image left the page
    assert notice.status == NoticeStatus.PARTIALLY_REMOVED
    removed = [i for i in items if i.outcome == ItemOutcome.REMOVED]
    assert all(time_to_removal(i) is not None for i in removed)
    first_b = session.get_one(NoticeItem, items[1].id)
    assert time_to_removal(first_b) == timedelta(hours=60)
    assert session.scalars(
        select(Verification).where(Verification.outcome == VerificationOutcome.CHANGED)
    ).all()


def test_all_removed_settles_the_notice_and_a_dead_host_counts(
    session: Session, platform_server: LoopbackServer, fetcher: SafeFetcher, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    platform_server.routes["/x.png"] = after(0, (200, b"", "image/png"), (404, b"", "text/plain"))
    clock = FakeClock(datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    items = _noticed(
        session, [platform_server.url("/x.png"), "http://gone.invalid/y.png"], clock, tmp_path
    )
    clock.now += timedelta(hours=2)
    for item_id in due_items(session, clock=clock):
        verify_item(
            session, session.get_one(NoticeItem, item_id), fetcher, follow_up=FOLLOW_UP, clock=clock
        )
    assert [i.outcome for i in items] == [ItemOutcome.REMOVED, ItemOutcome.REMOVED]
    assert items[0].notice.status == NoticeStatus.REMOVED
    assert due_items(session, clock=clock) == []
