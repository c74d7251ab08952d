from datetime import UTC, datetime, timedelta

from reclaim.cases import review
from reclaim.config import load_settings
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke
from tests.support.cases import make_case, quarantined


def test_operators_can_purge_now(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    settings = load_settings()
    store = review.quarantine_store(settings)
    store.put("old-object", b"synthetic")
    store.put("current-object", b"synthetic")
    engine = make_engine(cli_env["RECLAIM_DATABASE_URL"])
    now = datetime.now(UTC)
    with make_session_factory(engine).begin() as session:
        case = make_case(session, urls=["https://img.example.org/a.jpg"])
        for object_id, expires in (
            ("old-object", now - timedelta(hours=1)),
            ("current-object", now + timedelta(days=3)),
        ):
            quarantined(
                session,
                case.items[0],
                object_id,
                fetched_at=now - timedelta(days=1),
                expires_at=expires,
            )
    engine.dispose()
    result = reclaim("quarantine", "purge")
    assert result.exit_code == 0, result.output
    assert "Purged 1 quarantined media (1 files removed, 0 without a record)." in result.output
    assert not store.exists("old-object")
    assert store.exists("current-object")
