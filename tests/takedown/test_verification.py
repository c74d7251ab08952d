"""Verification against loopback 'platforms' that take content down after the k-th
look: each decided picture is checked on its own, a page is removed only when it (or
every decided picture on it) is gone, and cases follow."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind, AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases.domain import CaseStatus
from reclaim.cases.models import Case
from reclaim.fetching import FetchPolicy, SafeFetcher, parse_allowlist
from reclaim.platforms.models import Platform
from reclaim.takedown import answers
from reclaim.takedown.domain import (
    MediaOutcome,
    NoticeStatus,
    PageOutcome,
    ResolveOutcome,
    VerificationOutcome,
)
from reclaim.takedown.models import Notice, NoticePage, Verification
from reclaim.takedown.notices import NoticePolicy
from reclaim.takedown.verification import (
    check_now,
    due_pages,
    media_time_to_removal,
    time_to_removal,
    verify_page,
)
from tests.support.clock import FakeClock
from tests.support.http import (
    Handler,
    LoopbackOnlyBackend,
    LoopbackServer,
    ScriptedResolver,
    png_bytes,
    send,
)
from tests.support.settings import make_settings
from tests.support.takedown import Picture, analyst, case_with_urls, notice_for

ACTOR = audit.Actor(ActorKind.USER, None)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
IMAGE = png_bytes()
OTHER = png_bytes(color=(10, 200, 10))
THIRD = png_bytes(color=(10, 10, 200))
Answer = tuple[int, bytes, str]
GONE: Answer = (404, b"", "text/plain")


def after(k: int, first: Answer, then: Answer) -> Callable[[Handler], None]:
    """A route that answers `first` for k requests and `then` afterwards."""
    seen = {"n": 0}

    def route(handler: Handler) -> None:
        seen["n"] += 1
        status, body, content_type = first if seen["n"] <= k else then
        send(handler, status, body, content_type)

    return route


def always(status: int, body: bytes, content_type: str) -> Callable[[Handler], None]:
    return lambda handler: send(handler, status, body, content_type)


GONE_ROUTE = always(*GONE)


def html(*images: str) -> bytes:
    return (
        "<html><p>A post</p>" + "".join(f'<img src="{u}">' for u in images) + "</html>"
    ).encode()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    site = LoopbackServer().start()
    yield site
    site.stop()


@pytest.fixture
def fetcher() -> SafeFetcher:
    # Names resolve only through the script (none has an answer: a host that is gone),
    # and nothing but loopback is ever dialled.
    return SafeFetcher(
        FetchPolicy(
            total_timeout=5.0,
            connect_timeout=2.0,
            read_timeout=2.0,
            allowlist=parse_allowlist(["127.0.0.1/32"]),
        ),
        resolver=ScriptedResolver(),
        network_backend=LoopbackOnlyBackend(),
    )


@pytest.fixture
def policy(tmp_path: Path) -> NoticePolicy:
    return NoticePolicy.from_settings(make_settings(tmp_path))


def _noticed(
    session: Session,
    urls: Sequence[str],
    clock: FakeClock,
    policy: NoticePolicy,
    *,
    pictures: Mapping[str, Sequence[Picture]],
) -> tuple[Case, Notice]:
    """A case whose pages (showing ``pictures``) were decided and noticed, sent now."""
    platform = Platform(name="Loop", abuse_email="abuse@loop.example")
    session.add(platform)
    session.flush()
    case = case_with_urls(session, urls, platform=platform, pictures=pictures)
    notice, _ = notice_for(session, case, policy, clock=clock)
    return case, notice


def _run_due(
    session: Session, fetcher: SafeFetcher, policy: NoticePolicy, clock: FakeClock
) -> dict[str, str]:
    """Every due check, as the follow-up task runs them: page URL -> what it found."""
    found = {}
    for notice_page_id in due_pages(session, clock=clock):
        check = verify_page(session, notice_page_id, fetcher, policy, clock=clock)
        session.commit()
        found[session.get_one(NoticePage, notice_page_id).page.url] = check.outcome.value
    return found


def test_removal_after_the_kth_check_in_each_way(
    session: Session, server: LoopbackServer, fetcher: SafeFetcher, policy: NoticePolicy
) -> None:
    one, two = server.url("/m1.png"), server.url("/m2.png")
    server.routes.update(
        {
            "/a.png": after(2, (200, IMAGE, "image/png"), GONE),
            "/b.png": after(1, (200, IMAGE, "image/png"), (410, b"", "text/plain")),
            "/c.png": after(1, (200, IMAGE, "image/png"), (200, OTHER, "image/png")),
            # A page with two decided pictures: the platform takes down only the second.
            "/page": after(2, (200, html(one, two), "text/html"), (200, html(one), "text/html")),
            "/m1.png": always(200, IMAGE, "image/png"),
            "/m2.png": always(200, OTHER, "image/png"),
            "/never.png": always(200, IMAGE, "image/png"),
        }
    )
    clock = FakeClock(T0)
    a, b, c, page, never = (
        server.url(p) for p in ("/a.png", "/b.png", "/c.png", "/page", "/never.png")
    )
    # A direct picture URL is its own page's one picture; the page shows two.
    pictures = {url: [(url, IMAGE)] for url in (a, b, c, never)} | {
        page: [(one, IMAGE), (two, OTHER)]
    }
    case, notice = _noticed(session, [a, b, c, page, never], clock, policy, pictures=pictures)
    outcomes: dict[str, list[str]] = {u: [] for u in (a, b, c, page, never)}
    for _ in range(4):
        clock.advance(hours=30)
        for url, outcome in _run_due(session, fetcher, policy, clock).items():
            outcomes[url].append(outcome)
    assert outcomes[a] == ["still_up", "still_up", "removed"]
    assert outcomes[b] == ["still_up", "removed"]
    assert outcomes[c] == ["still_up", "changed", "changed", "changed"]
    assert outcomes[never] == ["still_up"] * 4
    # The page is not "removed" while its first picture is still up: it stays checked.
    assert outcomes[page] == ["still_up", "still_up", "partially_removed", "partially_removed"]

    pages = {p.page.url: p for p in notice.pages}
    shown = pages[page]
    assert shown.outcome is PageOutcome.PARTIALLY_REMOVED and shown.removed_at is None
    assert shown.next_check_at is not None
    still_up = [nm.media.url for nm in shown.media if nm.outcome is MediaOutcome.PENDING]
    assert still_up == [one]
    (gone,) = [nm for nm in shown.media if nm.outcome is MediaOutcome.REMOVED]
    assert gone.media.url == two and media_time_to_removal(gone) == timedelta(hours=90)
    checks = session.scalars(
        select(Verification)
        .where(Verification.notice_page_id == shown.id)
        .order_by(Verification.id)
    ).all()
    found = [{(mc.notice_media.media.url, mc.outcome, mc.detail) for mc in v.media} for v in checks]
    assert found[2] == {
        (one, VerificationOutcome.STILL_UP, None),
        (two, VerificationOutcome.REMOVED, "the page no longer shows it"),
    }
    # A picture found gone is not fetched again; the one still up is, at every check.
    assert found[3] == {(one, VerificationOutcome.STILL_UP, None)}

    assert notice.status == NoticeStatus.PARTIALLY_REMOVED
    assert time_to_removal(pages[a]) == timedelta(hours=90)
    assert time_to_removal(pages[b]) == timedelta(hours=60)
    assert [nm.outcome for nm in pages[b].media] == [MediaOutcome.REMOVED]
    assert time_to_removal(pages[c]) is None and pages[c].outcome is PageOutcome.PENDING
    assert case.status is CaseStatus.AWAITING_REMOVAL  # content is still up


def test_every_picture_gone_settles_the_page_the_notice_and_the_case(
    session: Session, server: LoopbackServer, fetcher: SafeFetcher, policy: NoticePolicy
) -> None:
    one, two, three = (server.url(f"/m{n}.png") for n in (1, 2, 3))
    server.routes.update(
        {
            # The page keeps linking to the first picture, but its file is deleted;
            # the second leaves the page; the third stays up one check longer.
            "/page": after(
                1, (200, html(one, two, three), "text/html"), (200, html(one, three), "text/html")
            ),
            "/m1.png": after(1, (200, IMAGE, "image/png"), GONE),
            "/m2.png": always(200, OTHER, "image/png"),
            "/m3.png": after(2, (200, THIRD, "image/png"), GONE),
            "/x.png": GONE_ROUTE,
        }
    )
    clock = FakeClock(T0)
    page, gone_now, dead_host = server.url("/page"), server.url("/x.png"), "http://gone.invalid/y"
    pictures = {
        page: [(one, IMAGE), (two, OTHER), (three, THIRD)],
        gone_now: [(gone_now, IMAGE)],
        dead_host: [("http://gone.invalid/y.png", IMAGE)],
    }
    case, notice = _noticed(session, [page, gone_now, dead_host], clock, policy, pictures=pictures)

    clock.advance(hours=1)
    first = _run_due(session, fetcher, policy, clock)
    # A 404 and a host that no longer resolves both mean gone, with every picture on it.
    assert first == {page: "still_up", gone_now: "removed", dead_host: "removed"}
    clock.advance(hours=5)
    assert _run_due(session, fetcher, policy, clock) == {page: "partially_removed"}
    assert notice.status is NoticeStatus.PARTIALLY_REMOVED
    assert case.status is CaseStatus.AWAITING_REMOVAL
    clock.advance(hours=18)
    assert _run_due(session, fetcher, policy, clock) == {page: "removed"}

    pages = {p.page.url: p for p in notice.pages}
    assert all(p.outcome is PageOutcome.REMOVED for p in notice.pages)
    assert all(nm.outcome is MediaOutcome.REMOVED for p in notice.pages for nm in p.media)
    removal = {nm.media.url: media_time_to_removal(nm) for nm in pages[page].media}
    assert removal == {one: timedelta(hours=6), two: timedelta(hours=6), three: timedelta(hours=24)}
    assert time_to_removal(pages[page]) == timedelta(hours=24)  # the last picture's
    assert notice.status is NoticeStatus.REMOVED
    clock.advance(days=3)
    assert due_pages(session, clock=clock) == []
    assert case.status is CaseStatus.RESOLVED  # every page that needed removing is gone


def test_a_check_that_cannot_tell_is_repeated_and_a_refused_page_is_still_checked(
    session: Session, server: LoopbackServer, fetcher: SafeFetcher, policy: NoticePolicy
) -> None:
    server.routes["/p.png"] = after(1, (503, b"busy", "text/plain"), (200, IMAGE, "image/png"))
    clock = FakeClock(T0)
    url = server.url("/p.png")
    _case, notice = _noticed(session, [url], clock, policy, pictures={url: [(url, IMAGE)]})
    (page,) = notice.pages

    clock.advance(hours=1)
    assert _run_due(session, fetcher, policy, clock) == {url: "failed"}
    assert page.outcome is PageOutcome.PENDING and page.next_check_at == T0 + timedelta(hours=6)

    answers.resolve(
        session,
        notice,
        [answers.PageClaim(page.id, ResolveOutcome.REFUSED, "allowed by our rules")],
        policy,
        actor=ACTOR,
        via=answers.Via.EMAIL,
        clock=clock,
    )
    assert notice.status is NoticeStatus.REFUSED and page.outcome is PageOutcome.REFUSED
    # A refusal does not end the checks: the next one is still due, and a picture still
    # up leaves the page refused.
    clock.advance(hours=5)
    assert due_pages(session, clock=clock) == [page.id]
    assert _run_due(session, fetcher, policy, clock) == {url: "still_up"}
    assert page.outcome is PageOutcome.REFUSED and notice.status is NoticeStatus.REFUSED

    # The content comes down later after all: "check now" records the removal.
    server.routes["/p.png"] = GONE_ROUTE
    user_id = analyst(session).id
    assert check_now(session, notice.id, fetcher, policy, requested_by=user_id, clock=clock) == 1
    assert page.outcome is PageOutcome.REMOVED
    assert (page.platform_outcome, page.platform_reason) == (
        PageOutcome.REFUSED,
        "allowed by our rules",
    )
    assert notice.status is NoticeStatus.REMOVED
    # Nothing is left to check.
    assert check_now(session, notice.id, fetcher, policy, requested_by=user_id, clock=clock) == 0
    assert due_pages(session, clock=clock) == []


def test_a_platforms_claim_brings_the_check_forward_and_check_now_runs_it(
    session: Session, server: LoopbackServer, fetcher: SafeFetcher, policy: NoticePolicy
) -> None:
    server.routes["/q.png"] = always(200, IMAGE, "image/png")
    clock = FakeClock(T0)
    url = server.url("/q.png")
    case, notice = _noticed(session, [url], clock, policy, pictures={url: [(url, IMAGE)]})
    (page,) = notice.pages
    clock.advance(minutes=10)
    assert due_pages(session, clock=clock) == []  # the first check is an hour after sending

    answers.resolve(
        session,
        notice,
        [answers.PageClaim(page.id, ResolveOutcome.REMOVED)],
        policy,
        actor=ACTOR,
        via=answers.Via.API,
        clock=clock,
    )
    # The platform's word is recorded, not believed: the page is due for a check now.
    assert (page.outcome, page.platform_outcome) == (PageOutcome.PENDING, PageOutcome.REMOVED)
    assert notice.status is NoticeStatus.ACKNOWLEDGED
    assert due_pages(session, clock=clock) == [page.id]

    user_id = analyst(session).id
    assert check_now(session, notice.id, fetcher, policy, requested_by=user_id, clock=clock) == 1
    session.commit()
    (check,) = session.scalars(select(Verification)).all()
    assert (check.outcome, check.requested_by_id) == (VerificationOutcome.STILL_UP, user_id)
    assert page.outcome is PageOutcome.PENDING  # still up, whatever the platform said
    asked = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.NOTICE_CHECK_REQUESTED.value)
    ).one()
    assert (asked.actor_id, asked.details) == (user_id, {"reference": notice.reference, "pages": 1})
    assert case.status is CaseStatus.AWAITING_REMOVAL
