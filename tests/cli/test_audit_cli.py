"""`reclaim audit verify`: names the first row that was altered or removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
from reclaim.audit.keys import keyring_for
from reclaim.audit.models import AuditEvent
from reclaim.audit.recording import row_digest
from reclaim.storage.db import make_engine, make_session_factory
from tests.cli.conftest import Invoke


def write_events(url: str, count: int) -> None:
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        for number in range(count):
            audit.record(
                session,
                AuditTag.CASE_VIEWED,
                actor=audit.Actor.user(1),
                target=(TargetKind.CASE, number),
                details={"n": number},
            )
    engine.dispose()


def run_sql(url: str, statement: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement))
    engine.dispose()


def test_an_intact_trail_is_ok(reclaim: Invoke, cli_env: dict[str, str]) -> None:
    write_events(cli_env["RECLAIM_DATABASE_URL"], 5)
    result = reclaim("audit", "verify")
    assert result.exit_code == 0
    assert "OK" in result.output and "5 rows checked" in result.output


def test_an_empty_trail_is_ok(reclaim: Invoke) -> None:
    result = reclaim("audit", "verify")
    assert result.exit_code == 0
    assert "0 rows checked" in result.output


@pytest.mark.parametrize(
    ("statement", "broken", "problem"),
    [
        pytest.param(
            "UPDATE audit_events SET actor_id = 2 WHERE id = 4",
            4,
            "row 4 was altered",
            id="altered",
        ),
        pytest.param("DELETE FROM audit_events WHERE id = 3", 3, "row 3 is missing", id="deleted"),
        pytest.param(
            "DELETE FROM audit_events WHERE id >= 5", 5, "rows 5–6 are missing", id="newest-deleted"
        ),
    ],
)
def test_a_row_changed_with_sql_is_named(
    reclaim: Invoke, cli_env: dict[str, str], statement: str, broken: int, problem: str
) -> None:
    url = cli_env["RECLAIM_DATABASE_URL"]
    write_events(url, 6)
    run_sql(url, statement)
    result = reclaim("audit", "verify")
    assert result.exit_code == 1
    assert f"broken at row {broken}" in result.output
    assert problem in result.output


def test_checkpoints_anchor_the_chain_against_a_rewrite_with_the_key(
    reclaim: Invoke, cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = cli_env["RECLAIM_DATABASE_URL"]
    write_events(url, 4)
    result = reclaim("audit", "checkpoint")
    assert result.exit_code == 0, result.output
    directory = Path(cli_env["RECLAIM_DATA_DIR"]) / "audit-checkpoints"
    assert "Checkpoint of row 4 written" in result.output
    assert reclaim("audit", "checkpoint").output.startswith("Nothing new")
    ok = reclaim("audit", "verify", "--checkpoints", str(directory))
    assert ok.exit_code == 0 and "1 signed checkpoints matched" in ok.output
    # An insider with the audit key rewrites row 2 and recomputes the chain after it.
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        key = keyring_for(session).current_key
        previous = None
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            if event.id == 2:
                event.details = {"n": 99}
            if previous is not None and event.id >= 2:
                event.prev_hash = previous
                event.row_hash = row_digest(event, key)
            previous = event.row_hash
    engine.dispose()
    assert reclaim("audit", "verify").exit_code == 0  # the keyed chain alone cannot tell
    broken = reclaim("audit", "verify", "--checkpoints", str(directory))
    assert broken.exit_code == 1
    assert "row 4 differs from its signed checkpoint" in broken.output
    refused = reclaim("audit", "checkpoint")
    assert refused.exit_code == 1 and "No checkpoint written" in refused.output


def test_a_forged_checkpoint_file_is_refused(
    reclaim: Invoke, cli_env: dict[str, str], tmp_path: Path
) -> None:
    write_events(cli_env["RECLAIM_DATABASE_URL"], 2)
    assert reclaim("audit", "checkpoint").exit_code == 0
    directory = Path(cli_env["RECLAIM_DATA_DIR"]) / "audit-checkpoints"
    (path,) = directory.glob("*.json")
    path.write_text(path.read_text().replace('"sequence": 2', '"sequence": 1'))
    result = reclaim("audit", "verify", "--checkpoints", str(directory))
    assert result.exit_code == 1 and "A checkpoint does not verify" in result.output


@pytest.mark.parametrize(
    ("name", "value", "setting"),
    [
        ("RECLAIM_QUARANTINE_KEYS", '{"k1": "not base64!"}', "RECLAIM_QUARANTINE_KEYS"),
        ("RECLAIM_SIGNING_KEYS", '{"s1": "c2hvcnQ="}', "RECLAIM_SIGNING_KEYS"),
        ("RECLAIM_AUDIT_KEYS", '{"a1": "c2hvcnQ="}', "RECLAIM_AUDIT_KEYS"),
    ],
)
def test_a_malformed_key_stops_with_one_line_naming_the_setting(
    reclaim: Invoke, monkeypatch: pytest.MonkeyPatch, name: str, value: str, setting: str
) -> None:
    monkeypatch.setenv(name, value)
    result = reclaim("audit", "verify")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Settings are not usable:") and setting in lines[0]
    assert "Traceback" not in result.output


def test_a_weak_secret_stops_production_with_one_line(
    reclaim: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECLAIM_ENVIRONMENT", "production")
    monkeypatch.setenv("RECLAIM_SECRET_KEY", "x")
    result = reclaim("audit", "verify")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "RECLAIM_SECRET_KEY is 1 characters long" in lines[0]
