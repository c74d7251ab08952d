"""Fetch for review against real loopback servers: quarantine, hashes, matches, audit;
previews and reveals; the retention purge.  Synthetic images and public test media only."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.banks.engine import MatchEngine
from reclaim.cases import decisions, retention, review, viewing
from reclaim.cases.domain import Classification
from reclaim.cases.models import Item, QuarantinedMedia
from reclaim.config import Settings
from reclaim.domain.signals import Signal, SignalType, pdq_distance
from reclaim.fetching import SafeFetcher
from reclaim.fetching.quarantine import QuarantineStore
from tests.support.cases import (
    bank_confirmed,
    confirmed_entries,
    make_case,
    make_user,
    md5,
    synthetic_png,
)
from tests.support.http import LoopbackOnlyBackend, LoopbackServer, content
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
            item,
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
    for link in item.signals:
        found.setdefault(link.signal.type, set()).add(link.signal.value)
    return found


def last_event(session: Session) -> AuditEvent:
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
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
    assert event.details == {"media": media.id, "sha256": media.sha256}


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
    bank_confirmed(session, Signal(SignalType.PDQ, ORIGINAL.pdq_rgb))
    server.routes["/copy.jpg"] = content((PDQ_IMAGES / BLURRED.path).read_bytes(), "image/jpeg")
    case = make_case(session, urls=[server.url("/copy.jpg")])
    outcome = reviewer.fetch(case.items[0])
    (match,) = [m for m in outcome.matches if m.bank == "confirmed"]
    assert match.distance == pdq_distance(ORIGINAL.pdq_rgb, BLURRED.pdq_rgb)
    assert 0 < match.distance <= 31
    assert last_event(session).details["matches"] == {"confirmed": 1}


def test_a_confirmed_item_banks_what_a_later_fetch_finds(
    session: Session, reviewer: Reviewer, server: LoopbackServer
) -> None:
    picture = synthetic_png(7)
    server.routes["/later.png"] = content(picture, "image/png")
    case = make_case(session, urls=[server.url("/later.png")])
    item = case.items[0]
    decision = decisions.decide(
        session,
        item,
        Classification.CSAM,
        analyst_id=reviewer.analyst.id,
        reason=None,
        policy=decisions.DecisionPolicy(),
    )
    reviewer.fetch(item)
    entries = confirmed_entries(session)
    sha = hashlib.sha256(picture).hexdigest()
    assert entries[sha].source_ref == decisions.source_ref(case.number, item.id, decision.id)


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
    assert not store.exists(old.object_id + review.PREVIEW_SUFFIX)
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
    bank_confirmed(session, md5("exact"))
    matches = MatchEngine().match(session, [md5("exact")])
    assert [(m.bank, m.distance) for m in matches] == [("confirmed", 0)]
