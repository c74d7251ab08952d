from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from reclaim.migrations import current_revision, downgrade, head_revision, upgrade
from reclaim.migrations.schema import metadata


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_database_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert {"cases", "reports", "items", "signals", "banks", "bank_entries"} <= set(
        inspect(engine).get_table_names()
    )
