"""Admins manage partners and their API keys in the console; keys work once issued
and stop working when revoked."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from reclaim.accounts.domain import Role
from reclaim.audit.domain import AuditTag
from reclaim.audit.models import AuditEvent
from reclaim.partners.domain import KeyParts
from reclaim.partners.models import ApiKey
from reclaim.platforms.models import Platform
from tests.web.conftest import csrf_from

Login = Callable[..., object]
EN = {"accept-language": "en"}


def _post(client: TestClient, action: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/console/partners", headers=EN).text)
    return client.post(
        action, data={"csrf_token": token, **data}, headers=EN, follow_redirects=False
    )


def test_an_admin_issues_and_revokes_a_key(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    with app.state.reclaim.sessions() as session:
        session.add(Platform(name="Photo Site"))
        session.commit()
        platform_id = session.scalars(select(Platform.id)).one()
    login_as(Role.ADMIN)
    created = _post(
        client, "/console/partners", {"name": "Photo Site T&S", "platform_id": platform_id}
    )
    assert created.status_code == 303
    twice = _post(client, "/console/partners", {"name": "Again", "platform_id": platform_id})
    assert twice.status_code == 400  # one partner identity per platform

    listing = client.get("/console/partners", headers=EN).text
    partner_id = re.search(r'action="/console/partners/(\d+)/keys"', listing).group(1)  # type: ignore[union-attr]
    issued = _post(
        client,
        f"/console/partners/{partner_id}/keys",
        {"scopes": ["hashes:read", "match"], "key_name": "HMA", "expires_days": "30"},
    )
    assert issued.status_code == 200
    key = re.search(r'data-key="(rcl_[a-z0-9]{8}_[A-Za-z0-9_-]{43})"', issued.text).group(1)  # type: ignore[union-attr]
    assert key not in client.get("/console/partners", headers=EN).text  # shown once only
    with app.state.reclaim.sessions() as session:
        stored = session.scalars(select(ApiKey)).one()
        parts = KeyParts.parse(key)
        assert parts is not None  # the secret may hold "_": never split the key by hand
        assert stored.scopes == ["hashes:read", "match"]
        assert stored.prefix == parts.prefix
        assert stored.secret_sha256 == hashlib.sha256(parts.secret.encode()).hexdigest()

    api = TestClient(app, base_url="http://127.0.0.1")
    assert api.get("/api/v1/hashes", headers={"authorization": f"Bearer {key}"}).status_code == 200
    assert api.get("/api/v1/notices", headers={"authorization": f"Bearer {key}"}).status_code == 403

    prefix = parts.prefix
    assert _post(client, f"/console/partners/keys/{prefix}/revoke", {}).status_code == 303
    with app.state.reclaim.sessions() as session:
        assert session.scalars(select(ApiKey)).one().revoked_at is not None
        tags = set(session.scalars(select(AuditEvent.tag)))
    assert {
        AuditTag.PARTNER_CHANGED.value,
        AuditTag.PARTNER_KEY_CREATED.value,
        AuditTag.PARTNER_KEY_REVOKED.value,
    } <= tags


def test_only_admins_reach_partners(app: FastAPI, client: TestClient, login_as: Login) -> None:
    login_as(Role.SUPERVISOR)
    assert client.get("/console/partners").status_code == 403


def test_platform_feedback_shows_on_the_case(
    app: FastAPI, client: TestClient, login_as: Login
) -> None:
    from reclaim import audit
    from reclaim.domain.signals import Signal, SignalType
    from reclaim.partners.domain import FeedbackOutcome
    from reclaim.partners.feedback import FeedbackReport, record_feedback
    from reclaim.partners.models import Partner
    from tests.support.cases import attach, make_case

    value = "a" * 32
    with app.state.reclaim.sessions() as session:
        platform = Platform(name="Photo Site")
        session.add(platform)
        session.flush()
        partner = Partner(name="Photo T&S", platform_id=platform.id)
        session.add(partner)
        case = make_case(session, files=1)
        attach(session, case.items[0], Signal(SignalType.MD5, value))
        session.flush()
        record_feedback(
            session,
            partner.id,
            [FeedbackReport(FeedbackOutcome.BLOCKED_UPLOAD, signal=Signal(SignalType.MD5, value))],
            actor=audit.Actor("partner", partner.id),
        )
        session.commit()
        number = case.number
    login_as(Role.ANALYST)
    page = client.get(f"/console/cases/{number}", headers=EN).text
    assert 'data-feedback="blocked_upload">Blocked an upload: 1' in page
