"""A live Reclaim server on loopback (uvicorn, its own SQLite database) with a partner
key, for the exchange plugin and the real threatexchange CLI to talk to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from reclaim.banks.banking import get_bank, withdraw_signals
from reclaim.domain.signals import Signal
from reclaim.partners.domain import Scope
from reclaim.web.api.deps import close_readers
from tests.browser.conftest import LiveServer
from tests.web.api.conftest import PartnerKey, add_partner, bank


@dataclass
class Exchange:
    server: LiveServer
    key: PartnerKey

    @property
    def url(self) -> str:
        return self.server.url

    def bank(self, signals: Sequence[Signal], **options: object) -> list[int]:
        with self.server.app.state.reclaim.sessions() as session:
            return bank(session, signals, **options)  # type: ignore[arg-type]

    def withdraw(self, signals: Sequence[Signal], bank_name: str = "csam") -> None:
        with self.server.app.state.reclaim.sessions() as session:
            withdraw_signals(session, get_bank(session, bank_name), signals)
            session.commit()


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[Exchange]:
    with LiveServer(tmp_path / "server") as server:
        with server.app.state.reclaim.sessions() as session:
            key = add_partner(session, scopes=[Scope.HASHES_READ, Scope.FEEDBACK])
        yield Exchange(server, key)
        close_readers(server.app)
