"""Fetch for review against real loopback servers: quarantine, hashes, matches, audit;
previews and reveals; the retention purge.  Synthetic images and public test media only."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.engine import MatchEngine
from reclaim.cases import decisions, gathering, retention, review, viewing
from reclaim.cases.domain import Classification, SeenHow
from reclaim.cases.models import Item, PageSnapshot, QuarantinedMedia
from reclaim.config import Settings
from reclaim.domain.signals import Signal, SignalType, pdq_distance
from reclaim.fetching import SafeFetcher
from reclaim.fetching.quarantine import QuarantineStore
from tests.support.cases import (
    bank_verified,
    make_case,
    make_user,
    md5,
    synthetic_png,
)
from tests.support.http import Handler, LoopbackOnlyBackend, LoopbackServer, content
from tests.support.settings import make_settings
from tests.support.testdata import PDQ_IMAGES, pdq_reference

REFERENCE = {row.path: row for row in pdq_reference()}
ORIGINAL = REFERENCE["bridge-mods/aaa-orig.jpg"]
BLURRED = REFERENCE["bridge-mods/blur-a-little.jpg"]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    started = LoopbackServer().start()
    yield started
    started.stop()


@pytest.fixture
def review_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        fetch_allowlist=["127.0.0.1/32"],
        fetch_total_timeout_seconds=5,
        quarantine_retention_days=7,
    )


@pytest.fixture
def store(review_settings: Settings) -> QuarantineStore:
    return review.quarantine_store(review_settings)


class Reviewer:
    """fetch_for_review with everything wired as the console wires it."""

    def __init__(self, session: Session, settings: Settings, store: QuarantineStore) -> None:
        self.session = session
        self.settings = settings
        self.store = store
        self.guard = LoopbackOnlyBackend()
        self.fetcher = SafeFetcher(review.fetch_policy(settings), network_backend=self.guard)
        self.analyst = make_user(session)

    def fetch(self, item: Item) -> review.ReviewOutcome:
        return review.fetch_for_review(
            self.session,
            item.id,
            fetcher=self.fetcher,
            store=self.store,
            matcher=MatchEngine(),
            policy=review.ReviewPolicy.from_settings(self.settings),
            actor_id=self.analyst.id,
        )


@pytest.fixture
def reviewer(session: Session, review_settings: Settings, store: QuarantineStore) -> Reviewer:
    return Reviewer(session, review_settings, store)


def signals_of(session: Session, item: Item) -> dict[SignalType, set[str]]:
    session.refresh(item)
    found: dict[SignalType, set[str]] = {}
    for media in item.media:
        for link in media.signals:
            found.setdefault(link.signal.type, set()).add(link.signal.value)
    return found


def last_event(session: Session) -> AuditEvent:
    """The latest audit row about the work itself (not the case status following it)."""
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tag != AuditTag.CASE_STATUS_CHANGED.value)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    return event


def test_an_image_is_quarantined_encrypted_hashed_and_audited(
    session: Session, reviewer: Reviewer, server: LoopbackServer, store: QuarantineStore
) -> None:
    picture = (PDQ_IMAGES / ORIGINAL.path).read_bytes()
    server.routes["/photo.jpg"] = content(picture, "image/jpeg")
    case = make_case(session, urls=[server.url("/photo.jpg")])
    before = datetime.now(UTC)
    outcome = reviewer.fetch(case.items[0])

    assert outcome.ok and not outcome.problems
    (media,) = outcome.media
    assert (media.content_type, media.size, media.sha256) == (
        "image/jpeg",
        len(picture),
        ORIGINAL.sha256,
    )
    assert media.expires_at - media.fetched_at == timedelta(days=7)
    assert media.fetched_at >= before
    # Encrypted at rest: the file on disk holds neither the bytes nor any long run of them.
    on_disk = (store.directory / f"{media.object_id}.rq").read_bytes()
    assert picture[200:264] not in on_disk
    assert store.get(media.object_id) == picture
    hashes = signals_of(session, case.items[0])
    assert hashes[SignalType.MD5] == {ORIGINAL.md5}
    assert hashes[SignalType.SHA256] == {ORIGINAL.sha256}
    assert ORIGINAL.pdq_rgb in hashes[SignalType.PDQ]
    event = last_event(session)
    assert event.tag == AuditTag.ITEM_FETCHED.value
    assert (event.target_type, event.target_id) == ("item", case.items[0].id)
    assert event.details["media"][0]["sha256"] == ORIGINAL.sha256
    assert reviewer.guard.violations == []


def test_the_preview_is_small_grey_and_blurred(
    session: Session, reviewer: Reviewer, server: LoopbackServer, store: QuarantineStore
) -> None:
    server.routes["/a.png"] = content(synthetic_png(3, (640, 480)), "image/png")
    case = make_case(session, urls=[server.url("/a.png")])
    (media,) = reviewer.fetch(case.items[0]).media
    session.flush()
    preview = viewing.preview(session, media, store=store, actor_id=reviewer.analyst.id)
    with Image.open(io.BytesIO(preview)) as image:
        assert image.format == "JPEG"
        assert image.mode == "L"
        assert max(image.size) <= 256
    event = last_event(session)
    assert event.tag == AuditTag.ITEM_PREVIEWED.value
    assert event.details == {
        "media": media.id,
        "media_object": media.media_id,
        "sha256": media.sha256,
    }
    # Seeing the preview is seeing the picture: its hashes may now be verified.
    session.refresh(media.media)
    assert media.media.seen_how is SeenHow.PREVIEW
    assert media.media.seen_by_id == reviewer.analyst.id


def test_reveal_returns_the_original_and_is_audited(
    session: Session, reviewer: Reviewer, server: LoopbackServer, store: QuarantineStore
) -> None:
    picture = synthetic_png(4)
    server.routes["/b.png"] = content(picture, "image/png")
    case = make_case(session, urls=[server.url("/b.png")])
    (media,) = reviewer.fetch(case.items[0]).media
    session.flush()
    revealed = viewing.reveal(session, media, store=store, actor_id=reviewer.analyst.id)
    assert (revealed.data, revealed.content_type) == (picture, "image/png")
    event = last_event(session)
    assert (event.tag, event.actor_id) == (AuditTag.ITEM_REVEALED.value, reviewer.analyst.id)


def test_a_page_is_read_for_the_media_it_shows(
    session: Session, reviewer: Reviewer, server: LoopbackServer
) -> None:
    first, second = synthetic_png(5), synthetic_png(6)
    server.routes["/gallery"] = content(
        b"<!doctype html><html><body><img src='/img/1.png'>"
        b"<img src='img/2.png'><img src='/missing.png'><img src='/page'></body></html>",
        "text/html; charset=utf-8",
    )
    server.routes["/img/1.png"] = content(first, "image/png")
    server.routes["/img/2.png"] = content(second, "image/png")
    server.routes["/page"] = content(b"<!doctype html><p>hi</p>", "text/html")
    case = make_case(session, urls=[server.url("/gallery")])
    outcome = reviewer.fetch(case.items[0])
    assert outcome.was_page
    assert [m.final_url for m in outcome.media] == [
        server.url("/img/1.png"),
        server.url("/img/2.png"),
    ]
    assert {p.error for p in outcome.problems} == {"HttpStatus", "NotMedia"}
    assert len(signals_of(session, case.items[0])[SignalType.SHA256]) == 2
    assert last_event(session).tag == AuditTag.ITEM_FETCHED.value


def test_the_page_and_its_media_share_one_time_budget(
    session: Session, tmp_path: Path, server: LoopbackServer
) -> None:
    """Each answer comes well within the limit, but not both together: the picture
    after the slow page is out of time (the limit is for the whole review)."""
    settings = make_settings(
        tmp_path, fetch_allowlist=["127.0.0.1/32"], fetch_total_timeout_seconds=2
    )
    reviewer = Reviewer(session, settings, review.quarantine_store(settings))
    page = content(b"<!doctype html><img src='/slow.png'>", "text/html; charset=utf-8")
    picture = content(synthetic_png(10), "image/png")

    def slow(route: Callable[[Handler], None]) -> Callable[[Handler], None]:
        def answer(handler: Handler) -> None:
            server.stopping.wait(1.2)  # most of the budget, but less than all of it
            route(handler)

        return answer

    server.routes["/slow-page"] = slow(page)
    server.routes["/slow.png"] = slow(picture)
    outcome = reviewer.fetch(make_case(session, urls=[server.url("/slow-page")]).items[0])
    assert not outcome.ok
    assert [p.error for p in outcome.problems] == ["FetchTimeoutError"]
    assert outcome.problems[0].url == server.url("/slow.png")


def test_a_page_without_media_is_a_failed_fetch(
    session: Session, reviewer: Reviewer, server: LoopbackServer
) -> None:
    server.routes["/empty"] = content(b"<!doctype html><p>nothing here</p>", "text/html")
    case = make_case(session, urls=[server.url("/empty")])
    outcome = reviewer.fetch(case.items[0])
    assert not outcome.ok
    event = last_event(session)
    assert event.tag == AuditTag.ITEM_FETCH_FAILED.value
    assert event.details["error"] == "NoMedia"


def test_the_page_html_is_kept_encrypted_even_without_media(
    session: Session, reviewer: Reviewer, server: LoopbackServer, store: QuarantineStore
) -> None:
    """A sextortion profile page shows no picture; its HTML is the evidence."""
    html = b"<!doctype html><p>profile of offender_account_42</p>"
    server.routes["/profile"] = content(html, "text/html; charset=utf-8")
    case = make_case(session, urls=[server.url("/profile")])
    reviewer.fetch(case.items[0])
    (snapshot,) = session.scalars(select(PageSnapshot)).all()
    assert snapshot.item_id == case.items[0].id and snapshot.http_status == 200
    assert snapshot.headers["content-type"] == "text/html; charset=utf-8"
    assert snapshot.sha256 == hashlib.sha256(html).hexdigest()
    assert store.get(snapshot.object_id) == html
    on_disk = b"".join(path.read_bytes() for path in store.directory.rglob("*") if path.is_file())
    assert b"offender_account_42" not in on_disk  # encrypted at rest


def test_gone_content_is_reported_as_such(
    session: Session, reviewer: Reviewer, server: LoopbackServer
) -> None:
    case = make_case(session, urls=[server.url("/removed.jpg")])
    outcome = reviewer.fetch(case.items[0])
    assert not outcome.ok
    event = last_event(session)
    assert (event.tag, event.details["error"]) == (AuditTag.ITEM_FETCH_FAILED.value, "HttpStatus")
    assert "404" in event.details["message"]
    assert session.scalars(select(QuarantinedMedia)).all() == []


def test_private_addresses_are_refused_without_the_allowlist(
    session: Session, tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)  # no allow-list: loopback is off limits
    reviewer = Reviewer(session, settings, review.quarantine_store(settings))
    server.routes["/x.png"] = content(synthetic_png(), "image/png")
    case = make_case(session, urls=[server.url("/x.png"), "http://0x7f000001/x.png"])
    for item in case.items:
        assert not reviewer.fetch(item).ok
    kinds = [
        e.details["error"]
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.ITEM_FETCH_FAILED.value)
        )
    ]
    assert kinds == ["BlockedAddressError", "NonCanonicalHostError"]
    assert server.requests == []


def test_known_content_is_flagged_before_anyone_looks(
    session: Session, reviewer: Reviewer, server: LoopbackServer
) -> None:
    bank_verified(session, Signal(SignalType.PDQ, ORIGINAL.pdq_rgb))
    server.routes["/copy.jpg"] = content((PDQ_IMAGES / BLURRED.path).read_bytes(), "image/jpeg")
    case = make_case(session, urls=[server.url("/copy.jpg")])
    outcome = reviewer.fetch(case.items[0])
    (match,) = [m for m in outcome.matches if m.bank == "csam"]
    assert match.distance == pdq_distance(ORIGINAL.pdq_rgb, BLURRED.pdq_rgb)
    assert 0 < match.distance <= 31
    assert match.verified
    assert last_event(session).details["matches"] == {"csam": 1}


def test_pictures_a_later_fetch_finds_wait_for_a_decision(
    session: Session, reviewer: Reviewer, server: LoopbackServer
) -> None:
    """A decision covers the pictures it was made on; what appears later is decided on
    its own (it may be a different picture)."""
    server.routes["/thread"] = content(
        b"<!doctype html><img src='/1.png'>", "text/html; charset=utf-8"
    )
    server.routes["/1.png"] = content(synthetic_png(7), "image/png")
    case = make_case(session, urls=[server.url("/thread")])
    item = case.items[0]
    reviewer.fetch(item)
    decision = decisions.decide(
        session,
        item,
        Classification.CSAM,
        analyst_id=reviewer.analyst.id,
        reason=None,
        policy=decisions.DecisionPolicy(),
    )
    (covered,) = decision.media
    server.routes["/thread"] = content(
        b"<!doctype html><img src='/1.png'><img src='/2.png'>", "text/html; charset=utf-8"
    )
    server.routes["/2.png"] = content(synthetic_png(8), "image/png")
    reviewer.fetch(item)
    session.refresh(item)
    assert len(item.media) == 2
    session.refresh(decision)
    assert [m.id for m in decision.media] == [covered.id]
    assert covered.url == server.url("/1.png")


def test_a_page_in_two_cases_is_one_page_with_one_media_per_picture(
    session: Session, reviewer: Reviewer, server: LoopbackServer
) -> None:
    server.routes["/shared.png"] = content(synthetic_png(11), "image/png")
    first = make_case(session, urls=[server.url("/shared.png")])
    second = make_case(session, urls=[server.url("/shared.png") + "#reported-again"])
    (one,) = reviewer.fetch(first.items[0]).found
    (two,) = reviewer.fetch(second.items[0]).found
    assert first.items[0].page_id == second.items[0].page_id
    assert one.media.id == two.media.id  # the same picture, decided and noticed once
    assert one.kept.id != two.kept.id  # each case's fetch keeps its own audited copy


def test_only_url_items_can_be_fetched(session: Session, reviewer: Reviewer) -> None:
    case = make_case(session, files=1)
    with pytest.raises(review.ReviewError) as refused:
        reviewer.fetch(case.items[0])
    assert refused.value.code == "not_a_url"


# --- retention ---------------------------------------------------------------------


def test_the_purge_deletes_expired_media_and_audits_counts(
    session: Session, reviewer: Reviewer, server: LoopbackServer, store: QuarantineStore
) -> None:
    server.routes["/old.png"] = content(synthetic_png(8), "image/png")
    server.routes["/new.png"] = content(synthetic_png(9), "image/png")
    case = make_case(session, urls=[server.url("/old.png"), server.url("/new.png")])
    (old,) = reviewer.fetch(case.items[0]).media
    (new,) = reviewer.fetch(case.items[1]).media
    old.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    store.put("orphan-from-a-rolled-back-fetch", b"ciphertext only")
    session.flush()
    later = datetime.now(UTC) + timedelta(seconds=1)

    outcome = retention.purge_expired(
        session, store, retention=timedelta(days=7), clock=lambda: later
    )
    assert (outcome.purged, outcome.objects, outcome.orphans) == (1, 2, 0)  # original + preview
    assert old.purged_at == later and new.purged_at is None
    assert not store.exists(old.object_id)
    assert not store.exists(old.object_id + gathering.PREVIEW_SUFFIX)
    assert store.exists(new.object_id)
    event = last_event(session)
    assert event.tag == AuditTag.QUARANTINE_PURGED.value
    assert event.actor_type == "system"
    assert event.details == {"purged": 1, "objects": 2, "orphans": 0}
    with pytest.raises(review.ReviewError) as refused:
        viewing.reveal(session, old, store=store, actor_id=reviewer.analyst.id)
    assert refused.value.code == "purged"

    # Past the retention period the store's own sweep takes what no row knew about.
    much_later = datetime.now(UTC) + timedelta(days=8)
    swept = retention.purge_expired(
        session, store, retention=timedelta(days=7), clock=lambda: much_later
    )
    assert swept.orphans == 1
    assert new.purged_at == much_later  # older than the retention period too
    assert list(store.entries()) == []


def test_a_purge_with_nothing_to_do_writes_no_audit_row(
    session: Session, store: QuarantineStore
) -> None:
    outcome = retention.purge_expired(session, store, retention=timedelta(days=7))
    assert outcome == retention.PurgeOutcome(0, 0, 0)
    assert session.scalars(select(AuditEvent)).all() == []


def test_known_md5_of_a_file_item_is_an_exact_match(session: Session) -> None:
    # Exact digests match at distance 0 (the case page says "distance 0").
    bank_verified(session, md5("exact"))
    matches = MatchEngine().match(session, [md5("exact")])
    assert [(m.bank, m.distance) for m in matches] == [("csam", 0)]
