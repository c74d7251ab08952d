"""Checkpoints reach their witnesses: a mailbox over SMTP and a signed webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from reclaim import audit
from reclaim.audit.domain import AuditTag
from reclaim.config import Settings
from reclaim.oversight.checkpoints import checkpoint_now, load_directory
from reclaim.oversight.witness import witness_secret
from reclaim.security.signing import signing_keyring
from reclaim.storage.db import make_engine, make_session_factory
from tests.support.clock import FakeClock
from tests.support.settings import make_settings
from tests.support.smtp import LoopbackSmtp, RecordingHandler
from tests.support.webhooks import WebhookReceiver


@pytest.fixture
def smtp() -> Iterator[tuple[LoopbackSmtp, RecordingHandler]]:
    handler = RecordingHandler()
    controller = LoopbackSmtp(handler)
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_a_checkpoint_goes_to_the_file_the_mailbox_and_the_webhook(
    tmp_path: Path,
    database_url: str,
    sessions: sessionmaker[Session],
    smtp: tuple[LoopbackSmtp, RecordingHandler],
) -> None:
    # The receiver checks the signature's time against its own wall clock.
    clock = FakeClock(datetime.now(UTC))
    controller, handler = smtp
    settings: Settings = make_settings(
        tmp_path,
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_security="none",
        mail_from="Reclaim <audit@hotline.example>",
        audit_witness_email="witness@oversight.example",
        fetch_allowlist=["127.0.0.1/32"],
    )
    receiver = WebhookReceiver(secret=witness_secret(settings)).start()
    try:
        settings = make_settings(
            tmp_path, **{**settings.model_dump(), "audit_witness_webhook_url": receiver.url()}
        )
        with sessions.begin() as session:
            for _ in range(3):
                audit.record(session, AuditTag.CASE_VIEWED, actor=audit.SYSTEM)
        taken = checkpoint_now(sessions, settings, clock=clock)
    finally:
        receiver.stop()
    assert taken is not None
    checkpoint, path, problems = taken
    assert problems == [] and checkpoint.sequence == 3
    saved = load_directory(path.parent, signing_keyring(settings).public_keys())
    assert [c.head_hash for c in saved] == [checkpoint.head_hash]
    (mail,) = handler.received
    assert mail.rcpt_tos == ("witness@oversight.example",)
    assert json.loads(mail.parsed().get_content())["head_hash"] == checkpoint.head_hash
    (call,) = receiver.calls
    assert json.loads(call.body)["sequence"] == 3
    # Nothing new: no second file, no second message.
    assert checkpoint_now(sessions, settings, clock=clock) is None
    assert len(handler.received) == 1
