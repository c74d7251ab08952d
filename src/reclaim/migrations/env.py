"""Alembic environment: runs against the engine that `reclaim.migrations` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from reclaim.migrations.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations with `reclaim db upgrade`, which supplies the engine")


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """SQLite cannot ALTER most things: batch mode copies a table, drops it and renames
    the copy, which foreign keys from other tables' rows would refuse.  The pragma only
    works outside a transaction, so it is set on the driver's connection directly."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                # What the rebuilt tables hold must still be consistent; else roll back.
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)
