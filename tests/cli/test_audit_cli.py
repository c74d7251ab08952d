"""`reclaim audit verify`: names the first row that was altered or removed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from reclaim import audit
from reclaim.audit.domain import AuditTag, TargetKind
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
