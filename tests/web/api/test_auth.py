"""API keys: missing, malformed, unknown, revoked, expired, wrong scope, rate limited."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy import select

from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.partners.domain import Scope
from reclaim.partners.keys import revoke_key
from reclaim.partners.models import ApiKey, Partner
from reclaim.web.api.deps import close_readers
from reclaim.web.app import create_app
from tests.support.settings import make_settings
from tests.web.api.conftest import ADMIN, PartnerKey, add_partner

FEED = "/api/v1/hashes"


def error_of(response: object) -> tuple[int, str]:
    status = response.status_code  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return status, body["error"]["code"]


def test_a_valid_key_reads_the_feed(client: TestClient, partner: PartnerKey) -> None:
    response = client.get(FEED, headers=partner.headers)
    assert response.status_code == 200
    assert response.json() == {"entries": [], "next_cursor": "0", "has_more": False}


def test_no_key_is_401_with_a_challenge(client: TestClient) -> None:
    response = client.get(FEED)
    assert error_of(response) == (401, "missing_api_key")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_malformed_and_unknown_keys_are_the_same_401(
    client: TestClient, partner: PartnerKey
) -> None:
    wrong_secret = partner.key[:-4] + ("AAAA" if not partner.key.endswith("AAAA") else "BBBB")
    unknown_prefix = "rcl_zzzzzzzz_" + partner.key.split("_", 2)[2]
    for presented in ("nonsense", partner.key + "x", wrong_secret, unknown_prefix):
        response = client.get(FEED, headers={"Authorization": f"Bearer {presented}"})
        assert error_of(response) == (401, "invalid_api_key"), presented
    basic = client.get(FEED, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert error_of(basic) == (401, "missing_api_key")


def test_a_revoked_key_stops_working_within_the_cache_time(
    app: FastAPI, client: TestClient
) -> None:
    with app.state.reclaim.sessions() as session:
        key = add_partner(session)
    assert client.get(FEED, headers=key.headers).status_code == 200
    with app.state.reclaim.sessions() as session:
        revoke_key(session, key.prefix, actor=ADMIN)
        session.commit()
        tags = session.scalars(select(AuditEvent.tag)).all()
    assert AuditTag.PARTNER_KEY_REVOKED.value in tags
    revoked = time.monotonic()
    while (response := client.get(FEED, headers=key.headers)).status_code == 200:
        assert time.monotonic() - revoked < 1.5  # RECLAIM_API_KEY_CACHE_SECONDS: 1
        time.sleep(0.05)
    assert error_of(response) == (401, "revoked_api_key")


def test_without_the_cache_revocation_is_immediate(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url=database_url, api_key_cache_seconds=0)
    app = create_app(settings, huey=MemoryHuey("nocache", immediate=True))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        with app.state.reclaim.sessions() as session:
            key = add_partner(session)
        assert client.get(FEED, headers=key.headers).status_code == 200
        with app.state.reclaim.sessions() as session:
            revoke_key(session, key.prefix, actor=ADMIN)
            session.commit()
        assert error_of(client.get(FEED, headers=key.headers)) == (401, "revoked_api_key")
    close_readers(app)


def test_an_expired_key_is_refused(app: FastAPI, client: TestClient) -> None:
    with app.state.reclaim.sessions() as session:
        key = add_partner(session)
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == key.prefix))
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()
    assert error_of(client.get(FEED, headers=key.headers)) == (401, "expired_api_key")


def test_a_suspended_partner_is_refused(app: FastAPI, client: TestClient) -> None:
    with app.state.reclaim.sessions() as session:
        key = add_partner(session)
        partner = session.get(Partner, key.partner_id)
        assert partner is not None
        partner.is_active = False
        session.commit()
    assert error_of(client.get(FEED, headers=key.headers)) == (403, "partner_inactive")


def test_each_operation_needs_its_scope(app: FastAPI, client: TestClient) -> None:
    with app.state.reclaim.sessions() as session:
        feed_only = add_partner(session, scopes=[Scope.HASHES_READ])
    assert client.get(FEED, headers=feed_only.headers).status_code == 200
    refused = [
        client.post(
            "/api/v1/match",
            headers=feed_only.headers,
            json={"signals": [{"signal_type": "md5", "value": "a" * 32}]},
        ),
        client.get("/api/v1/notices", headers=feed_only.headers),
        client.get("/api/v1/feedback", headers=feed_only.headers),
        client.post(
            "/api/v1/feedback",
            headers=feed_only.headers,
            json={"feedback": [{"entry_id": 1, "outcome": "removed"}]},
        ),
    ]
    for response in refused:
        assert error_of(response) == (403, "insufficient_scope")


def test_last_used_is_recorded_without_a_write_per_request(
    app: FastAPI, client: TestClient, partner: PartnerKey
) -> None:
    def last_used() -> datetime | None:
        with app.state.reclaim.sessions() as session:
            return session.scalar(
                select(ApiKey.last_used_at).where(ApiKey.prefix == partner.prefix)
            )

    assert last_used() is None
    client.get(FEED, headers=partner.headers)
    first = last_used()
    assert first is not None
    client.get(FEED, headers=partner.headers)
    assert last_used() == first  # within the minute: not written again


def test_rate_limit_is_per_key_with_retry_after(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url=database_url, api_burst=3, api_rate_per_second=0.01
    )
    app = create_app(settings, huey=MemoryHuey("rate", immediate=True))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        with app.state.reclaim.sessions() as session:
            first = add_partner(session)
            second = add_partner(session)  # another key of the same partner
        statuses = [client.get(FEED, headers=first.headers).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get(FEED, headers=first.headers)
        assert error_of(limited) == (429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get(FEED, headers=second.headers).status_code == 200


def test_keys_are_stored_as_digests_only(app: FastAPI, partner: PartnerKey) -> None:
    with app.state.reclaim.sessions() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == partner.prefix))
        assert row is not None
        secret = partner.key.split("_", 2)[2]
        assert secret not in row.secret_sha256
        assert len(row.secret_sha256) == 64
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == AuditTag.PARTNER_KEY_CREATED.value)
        ).all()
        assert events
        assert all(secret not in str(e.details) for e in events)
