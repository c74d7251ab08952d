"""Fixtures for the delivery tests: mail servers and a webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.smtp import LoopbackSmtp, RecordingHandler, SelfSigned, self_signed
from tests.support.webhooks import WebhookReceiver

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def smtp_server(handler: RecordingHandler) -> Iterator[LoopbackSmtp]:
    """A plain (no TLS) relay."""
    controller = LoopbackSmtp(handler)
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> SelfSigned:
    return self_signed(tmp_path)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver().start()
    yield started
    started.stop()
