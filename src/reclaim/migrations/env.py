"""Alembic environment: runs against the engine that `reclaim.migrations` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from reclaim.migrations.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations with `reclaim db upgrade`, which supplies the engine")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
