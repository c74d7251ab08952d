"""Patrol against a real loopback platform: a confirmed picture re-uploaded at a new URL
on a watched page becomes an item of the original case and a draft notice; a second run
adds nothing; an unrelated picture adds nothing.  Public test media and synthetic images."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks import banking, videos
from reclaim.banks.domain import Category, EntrySource
from reclaim.banks.engine import MatchEngine
from reclaim.cases import pages, review
from reclaim.cases.domain import Classification
from reclaim.cases.fetched_videos import video_frames
from reclaim.cases.models import Case, Item, QuarantinedMedia
from reclaim.config import Settings
from reclaim.domain.signals import Signal, SignalType
from reclaim.fetching import SafeFetcher
from reclaim.fetching.quarantine import QuarantineStore
from reclaim.hashing import hash_image_bytes
from reclaim.platforms.models import Platform
from reclaim.scanning import patrol
from reclaim.scanning.models import PatrolFind, WatchedPage
from reclaim.statistics.domain import Filter, Period
from reclaim.statistics.removal import removal_figures
from reclaim.takedown.domain import NoticeStatus
from reclaim.takedown.models import Delivery, Notice
from reclaim.takedown.notices import NoticePolicy
from tests.support.cases import bank_unverified, bank_verified, make_user, synthetic_png
from tests.support.http import LoopbackOnlyBackend, LoopbackServer, content
from tests.support.settings import make_settings
from tests.support.takedown import case_with_urls, notice_for
from tests.support.testdata import PDQ_IMAGES, VIDEOS, pdq_reference
from tests.support.videos import variant

REFERENCE = {row.path: row for row in pdq_reference()}
ORIGINAL = (PDQ_IMAGES / REFERENCE["bridge-mods/aaa-orig.jpg"].path).read_bytes()
REUPLOAD = (PDQ_IMAGES / REFERENCE["bridge-mods/blur-a-little.jpg"].path).read_bytes()
UNRELATED = synthetic_png(seed=7, size=(300, 200))
VIDEO = VIDEOS / "chair-orig-22-sd-bar.mp4"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    started = LoopbackServer().start()
    yield started
    started.stop()


@pytest.fixture
def patrol_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        fetch_allowlist=["127.0.0.1/32"],
        fetch_total_timeout_seconds=10,
        review_user_agent="Reclaim-Review-Test/1",
        fetch_user_agent="Reclaim-Verifier-Test/1",
    )


class Patrol:
    """A patrol run wired as the scheduled job wires it (no waiting: pacing recorded)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: QuarantineStore = review.quarantine_store(settings)
        self.fetcher = SafeFetcher(
            patrol.fetch_policy(settings), network_backend=LoopbackOnlyBackend()
        )
        self.slept: list[float] = []
        self.now = 0.0

    def run(self, session: Session) -> patrol.PatrolOutcome:
        pacer = patrol.HostPacer(
            self.settings.patrol_host_interval_seconds,
            monotonic=lambda: self.now,
            sleep=self.slept.append,
        )
        return patrol.run(
            session,
            fetcher=self.fetcher,
            store=self.store,
            matcher=MatchEngine(),
            policy=review.ReviewPolicy.from_settings(self.settings),
            pacer=pacer,
        )


def confirmed_case(
    session: Session, server: LoopbackServer, settings: Settings
) -> tuple[Case, Platform]:
    """A case whose picture (at /board/old.jpg) was decided and banked as verified."""
    platform = Platform(name="Loopboard", language="en", abuse_email="abuse@loopboard.example")
    session.add(platform)
    session.flush()
    old = server.url("/board/old.jpg")
    case = case_with_urls(
        session,
        [old],
        classification=Classification.SELF_GENERATED_MINOR,
        platform=platform,
        pictures={old: [(old, ORIGINAL)]},
    )
    hashes = hash_image_bytes(ORIGINAL, settings.hashing_limits())
    bank_verified(session, hashes.pdq.signal)
    return case, platform


def board(server: LoopbackServer, *pictures: str) -> None:
    images = "".join(f'<img src="{p}">' for p in pictures)
    server.routes["/board"] = content(f"<html><body>{images}</body></html>".encode(), "text/html")
    server.routes["/board/old.jpg"] = content(ORIGINAL, "image/jpeg")
    server.routes["/new/a.jpg"] = content(REUPLOAD, "image/jpeg")
    server.routes["/new/other.png"] = content(UNRELATED, "image/png")


def test_a_reupload_on_a_watched_page_becomes_an_item_and_a_draft_notice_once(
    session: Session, server: LoopbackServer, patrol_settings: Settings
) -> None:
    case, platform = confirmed_case(session, server, patrol_settings)
    supervisor = make_user(session)
    board(server, "/board/old.jpg", "/new/a.jpg", "/new/other.png")
    watch = patrol.add_watch(
        session, server.url("/board"), case.number, actor=audit.Actor.user(supervisor.id)
    )
    assert watch.platform_id == platform.id  # the platform that hosted the case's content
    session.commit()
    runner = Patrol(patrol_settings)

    first = runner.run(session)

    assert first.fetched == 1 and first.media == 3
    # the original (already an item) and the re-upload match; the unrelated picture does not
    assert first.matched == 2
    assert len(first.added) == 1 and len(first.drafted) == 1
    item = session.get_one(Item, first.added[0])
    assert item.case_id == case.id
    assert item.url == server.url("/new/a.jpg")
    assert item.classification is Classification.SELF_GENERATED_MINOR
    find = session.scalars(select(PatrolFind)).one()
    assert find.item_id == item.id and find.watch_id == watch.id
    notice = session.get_one(Notice, first.drafted[0])
    assert notice.status is NoticeStatus.DRAFT  # a supervisor approves; never sent by itself
    assert notice.platform_id == platform.id
    assert [p.page.url for p in notice.pages] == [server.url("/new/a.jpg")]
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    kept = session.scalars(
        select(QuarantinedMedia).where(QuarantinedMedia.item_id == item.id)
    ).one()
    assert runner.store.get(kept.object_id)  # the evidence is kept, encrypted
    # only what matched stays in the quarantine (the page, the unrelated picture: deleted)
    assert len(list(runner.store.entries())) == 2  # the re-upload and its preview
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.tag == AuditTag.PATROL_REUPLOAD_FOUND.value)
    ).one()
    assert event.details["url"] == server.url("/new/a.jpg")
    assert event.details["notice"] == notice.reference
    # the review User-Agent, not the verifier's
    agents = {headers.get("User-Agent") for _path, headers in server.requests}
    assert agents == {"Reclaim-Review-Test/1"}

    second = runner.run(session)

    assert second.fetched == 1 and second.matched == 2
    assert second.added == [] and second.drafted == []
    assert session.scalar(select(func.count()).select_from(PatrolFind)) == 1
    assert session.scalar(select(func.count()).select_from(Notice)) == 1
    assert len(list(runner.store.entries())) == 2


def test_an_unrelated_or_unverified_picture_adds_nothing(
    session: Session, server: LoopbackServer, patrol_settings: Settings
) -> None:
    case, _platform = confirmed_case(session, server, patrol_settings)
    # a picture only in an unverified (self-reported) bank does not count
    bank_unverified(
        session, hash_image_bytes(UNRELATED, patrol_settings.hashing_limits()).pdq.signal
    )
    board(server, "/new/other.png")
    patrol.add_watch(session, server.url("/board"), case.number, actor=audit.SYSTEM)
    session.commit()
    runner = Patrol(patrol_settings)

    outcome = runner.run(session)

    assert outcome.media == 1 and outcome.matched == 0 and outcome.added == []
    assert session.scalar(select(func.count()).select_from(Notice)) == 0
    assert list(runner.store.entries()) == []


def test_pages_on_one_host_are_paced_and_removed_watches_are_not_fetched(
    session: Session, server: LoopbackServer, patrol_settings: Settings
) -> None:
    case, _platform = confirmed_case(session, server, patrol_settings)
    board(server)
    server.routes["/other"] = server.routes["/board"]
    server.routes["/gone"] = server.routes["/board"]
    patrol.add_watch(session, server.url("/board"), case.number, actor=audit.SYSTEM)
    patrol.add_watch(session, server.url("/other"), case.number, actor=audit.SYSTEM)
    removed = patrol.add_watch(session, server.url("/gone"), case.number, actor=audit.SYSTEM)
    patrol.remove_watch(session, removed.id, actor=audit.SYSTEM)
    session.commit()
    runner = Patrol(patrol_settings)

    outcome = runner.run(session)

    assert outcome.watched == 2
    assert runner.slept == [patrol_settings.patrol_host_interval_seconds]
    assert "/gone" not in [path for path, _headers in server.requests]
    assert session.get_one(WatchedPage, removed.id).removed_at is not None


def test_a_watch_needs_an_http_page_and_a_case_with_confirmed_content(
    session: Session, server: LoopbackServer, patrol_settings: Settings
) -> None:
    case, _platform = confirmed_case(session, server, patrol_settings)
    undecided = case_with_urls(session, ["https://example.org/x"], classification=None)
    with pytest.raises(patrol.PatrolError):
        patrol.add_watch(session, "ftp://example.org/", case.number, actor=audit.SYSTEM)
    with pytest.raises(patrol.PatrolError):
        patrol.add_watch(session, "https://example.org/", "RC-NONE", actor=audit.SYSTEM)
    with pytest.raises(patrol.PatrolError):
        patrol.add_watch(session, "https://example.org/", undecided.number, actor=audit.SYSTEM)
    patrol.add_watch(session, "https://example.org/u/1#top", case.number, actor=audit.SYSTEM)
    with pytest.raises(patrol.PatrolError):
        patrol.add_watch(session, "https://example.org/u/1", case.number, actor=audit.SYSTEM)
    with pytest.raises(patrol.PatrolError):
        patrol.remove_watch(session, 999_999, actor=audit.SYSTEM)


def test_an_exact_reupload_of_removed_content_counts_in_the_statistics(
    session: Session, server: LoopbackServer, patrol_settings: Settings
) -> None:
    case, _platform = confirmed_case(session, server, patrol_settings)
    original = case.items[0]
    assert original.page is not None
    (old_media,) = original.page.media
    hashes = hash_image_bytes(ORIGINAL, patrol_settings.hashing_limits())
    exact = [
        (Signal(SignalType.MD5, hashlib.md5(ORIGINAL, usedforsecurity=False).hexdigest()), None),
        (Signal(SignalType.SHA256, hashlib.sha256(ORIGINAL).hexdigest()), None),
        (hashes.pdq.signal, hashes.pdq.quality),
    ]
    now = datetime.now(UTC)
    pages.attach_signals(session, old_media, exact, now=now)
    notice, _deliveries = notice_for(session, case, NoticePolicy.from_settings(patrol_settings))
    notice.pages[0].media[0].removed_at = now - timedelta(hours=1)  # verification saw it go
    # the same picture comes back at a new address on a watched page
    server.routes["/board"] = content(b'<html><img src="/copy/1.jpg"></html>', "text/html")
    server.routes["/copy/1.jpg"] = content(ORIGINAL, "image/jpeg")
    patrol.add_watch(session, server.url("/board"), case.number, actor=audit.SYSTEM)
    session.commit()

    outcome = Patrol(patrol_settings).run(session)

    assert len(outcome.added) == 1 and len(outcome.drafted) == 1
    zone = ZoneInfo("Asia/Taipei")
    today = now.astimezone(zone).date()
    where = Filter(Period(today - timedelta(days=1), today + timedelta(days=1), zone))
    overall = removal_figures(session, where, now + timedelta(minutes=1))[-1]
    assert overall.reuploads == 1


def test_a_trimmed_reupload_of_a_verified_video_is_found_by_vpdq(
    session: Session, server: LoopbackServer, patrol_settings: Settings
) -> None:
    case, _platform = confirmed_case(session, server, patrol_settings)
    original = VIDEO.read_bytes()
    hashes: list[tuple[Signal, int | None]] = []
    frames = video_frames(original, patrol_settings.hashing_limits(), hashes)
    assert frames is not None
    banking.add_signals(
        session,
        banking.verified_bank(session, Category.SELF_GENERATED_MINOR),
        [
            banking.NewEntry(
                videos.signal_of(frames),
                videos.best_quality(frames),
                verified=True,
                category=Category.SELF_GENERATED_MINOR,
                verified_via="test",
                frames=frames,
            )
        ],
        source=EntrySource.IMPORT,
        source_ref="test",
        min_pdq_quality=50,
    )
    server.routes["/board"] = content(
        b'<html><video src="/v/again.mp4"></video></html>', "text/html"
    )
    server.routes["/v/again.mp4"] = content(variant(VIDEO, skip_seconds=3.0), "video/mp4")
    patrol.add_watch(session, server.url("/board"), case.number, actor=audit.SYSTEM)
    session.commit()

    outcome = Patrol(patrol_settings).run(session)

    assert outcome.media == 1 and len(outcome.added) == 1 and len(outcome.drafted) == 1
    assert session.get_one(Item, outcome.added[0]).url == server.url("/v/again.mp4")
