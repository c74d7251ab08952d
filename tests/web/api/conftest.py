"""Fixtures for the partner API: the app on either backend, a platform with a partner,
keys with chosen scopes, and banked signals."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey
from sqlalchemy.orm import Session

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.banks.banking import NewEntry, add_signals, create_bank, get_bank
from reclaim.banks.domain import Category, EntrySource
from reclaim.config import Settings
from reclaim.domain.signals import Signal
from reclaim.partners.domain import Scope
from reclaim.partners.keys import create_key, create_partner
from reclaim.platforms.directory import PlatformRecord, import_records
from reclaim.web.api.deps import close_readers
from reclaim.web.app import create_app
from tests.support.settings import make_settings

ADMIN = audit.Actor(ActorKind.OPERATOR)
ALL_SCOPES = tuple(Scope)


@pytest.fixture
def api_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def app(api_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(api_settings, huey=MemoryHuey("api-test", immediate=True))
    yield application
    close_readers(application)
    application.state.reclaim.engine.dispose()  # also when no client ran the lifespan


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


@dataclass
class PartnerKey:
    partner_id: int
    platform_id: int
    key: str
    prefix: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def add_partner(
    session: Session,
    platform: str = "Photo Site",
    domain: str | None = None,
    scopes: Sequence[Scope] = ALL_SCOPES,
) -> PartnerKey:
    """A platform (if new), its partner (if new) and a fresh key; committed."""
    from sqlalchemy import select

    from reclaim.partners.models import Partner
    from reclaim.platforms.models import Platform

    row = session.scalar(select(Platform).where(Platform.name == platform))
    if row is None:
        host = domain or platform.lower().replace(" ", "") + ".example"
        import_records(
            session,
            [PlatformRecord(platform, (host,), abuse_email=f"abuse@{host}")],
            actor=ADMIN,
        )
        row = session.scalar(select(Platform).where(Platform.name == platform))
    assert row is not None
    partner = session.scalar(select(Partner).where(Partner.platform_id == row.id))
    if partner is None:
        partner = create_partner(session, f"{platform} T&S", platform, actor=ADMIN)
    issued = create_key(session, partner, scopes, name="test", actor=ADMIN)
    session.commit()
    return PartnerKey(partner.id, row.id, issued.plaintext, issued.key.prefix)


@pytest.fixture
def partner(app: FastAPI) -> PartnerKey:
    with app.state.reclaim.sessions() as session:
        return add_partner(session)


BankSignals = Callable[..., list[int]]


def bank(
    session: Session,
    signals: Sequence[Signal],
    *,
    name: str = "csam",
    verified: bool = True,
    quality: int | None = 100,
) -> list[int]:
    """Bank signals (creating the bank if needed: verified CSAM, or unverified of no
    one category); returns entry ids; committed."""
    try:
        target = get_bank(session, name)
    except ValueError:
        target = create_bank(
            session,
            name,
            "test bank",
            verified=verified,
            category=Category.CSAM if verified else None,
            actor=ADMIN,
        )
    category = target.category or Category.UNKNOWN
    via = "test" if verified else None
    outcome = add_signals(
        session,
        target,
        [NewEntry(s, quality, verified, category, via) for s in signals],
        source=EntrySource.IMPORT,
        source_ref="test",
        min_pdq_quality=0,
    )
    session.commit()
    return outcome.entry_ids


@pytest.fixture
def banked(app: FastAPI) -> BankSignals:
    def add(signals: Sequence[Signal], **options: object) -> list[int]:
        with app.state.reclaim.sessions() as session:
            return bank(session, signals, **options)  # type: ignore[arg-type]

    return add
