"""Legal holds and retention with an injected clock: held evidence survives the purge;
released evidence is purged on the next run; a referral's retention hold ends alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.cases import holds, retention
from reclaim.cases.models import PageSnapshot
from reclaim.fetching.quarantine import QuarantineStore
from reclaim.security.field_crypto import keyring
from tests.support.cases import make_case, quarantined
from tests.support.clock import T0, FakeClock
from tests.support.settings import make_settings

RETENTION = timedelta(days=30)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> QuarantineStore:
    return QuarantineStore(tmp_path / "quarantine", keyring(make_settings(tmp_path)), clock=clock)


def _evidence(session: Session, store: QuarantineStore, name: str) -> tuple[object, PageSnapshot]:
    case = make_case(session, urls=[f"https://example.org/{name}"], created_at=T0)
    item = case.items[0]
    media = quarantined(session, item, f"{name}-media", fetched_at=T0, expires_at=T0 + RETENTION)
    store.put(media.object_id, b"synthetic picture")
    snapshot = PageSnapshot(
        item_id=item.id,
        object_id=f"{name}-page",
        final_url=f"https://example.org/{name}",
        http_status=200,
        headers={"content-type": "text/html"},
        content_type="text/html",
        size=9,
        sha256="0" * 64,
        fetched_at=T0,
        expires_at=T0 + RETENTION,
    )
    session.add(snapshot)
    store.put(snapshot.object_id, b"<html></html>")
    session.flush()
    return case, snapshot


def test_held_evidence_survives_the_purge_and_goes_after_release(
    session: Session, store: QuarantineStore, clock: FakeClock
) -> None:
    held_case, held_page = _evidence(session, store, "held")
    free_case, free_page = _evidence(session, store, "free")
    holds.set_hold(
        session, held_case, "police investigation 2026-17", actor=audit.SYSTEM, clock=clock
    )

    clock.advance(days=31)
    outcome = retention.purge_expired(session, store, retention=RETENTION, clock=clock)

    assert store.exists("held-media") and store.exists("held-page")
    assert held_page.purged_at is None
    assert not store.exists("free-media") and not store.exists("free-page")
    assert free_page.purged_at == clock.now
    assert outcome.purged == 2  # the free case's media and its page snapshot

    with pytest.raises(holds.HoldError):
        holds.release_hold(session, held_case, "  ", actor=audit.SYSTEM, clock=clock)
    holds.release_hold(
        session, held_case, "case closed by the prosecutor", actor=audit.SYSTEM, clock=clock
    )
    clock.advance(hours=1)
    retention.purge_expired(session, store, retention=RETENTION, clock=clock)
    assert not store.exists("held-media") and not store.exists("held-page")
    assert held_page.purged_at == clock.now
    assert free_case.id != held_case.id


def test_the_store_sweep_never_takes_held_files(
    session: Session, store: QuarantineStore, clock: FakeClock
) -> None:
    """Files older than the retention period are swept even without an expired row;
    a held case's files are not."""
    case, _ = _evidence(session, store, "old")
    holds.set_hold(session, case, "legal hold", actor=audit.SYSTEM, clock=clock)
    clock.advance(days=400)
    retention.purge_expired(session, store, retention=RETENTION, clock=clock)
    assert store.exists("old-media") and store.exists("old-page")


def test_a_retention_hold_ends_by_itself(
    session: Session, store: QuarantineStore, clock: FakeClock
) -> None:
    case, snapshot = _evidence(session, store, "referred")
    holds.keep_until(
        session, case, clock.now + timedelta(days=180), "referred", actor=audit.SYSTEM, clock=clock
    )
    assert holds.active_hold(session, case.id) is None  # not a legal hold: no release needed
    clock.advance(days=179)
    retention.purge_expired(session, store, retention=RETENTION, clock=clock)
    assert store.exists("referred-media")
    clock.advance(days=2)
    retention.purge_expired(session, store, retention=RETENTION, clock=clock)
    assert not store.exists("referred-media") and snapshot.purged_at == clock.now


def test_holds_are_audited_and_need_a_reason(session: Session, clock: FakeClock) -> None:
    case = make_case(session)
    with pytest.raises(holds.HoldError) as refused:
        holds.set_hold(session, case, "", actor=audit.SYSTEM, clock=clock)
    assert refused.value.code == "reason_required"
    first = holds.set_hold(session, case, "evidence", actor=audit.Actor.user(1), clock=clock)
    assert holds.set_hold(session, case, "again", actor=audit.SYSTEM, clock=clock) is first
    with pytest.raises(holds.HoldError) as none:
        holds.release_hold(session, make_case(session), "x", actor=audit.SYSTEM)
    assert none.value.code == "not_held"
    tags = session.scalars(select(AuditEvent.tag).where(AuditEvent.target_id == case.id)).all()
    assert AuditTag.LEGAL_HOLD_SET.value in tags
