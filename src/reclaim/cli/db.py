"""`reclaim db upgrade|current`."""

from __future__ import annotations

import typer

from reclaim.cli.app import app
from reclaim.cli.context import console, settings
from reclaim.migrations import current_revision, head_revision, upgrade
from reclaim.storage.db import make_engine

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations (creates the SQLite database if it does not exist)."""
    engine = make_engine(settings().database_url)
    try:
        upgrade(engine, revision)
        console.print(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one available."""
    engine = make_engine(settings().database_url)
    try:
        console.print(f"current: {current_revision(engine)}  head: {head_revision(engine)}")
    finally:
        engine.dispose()
