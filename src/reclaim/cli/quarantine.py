"""`reclaim quarantine purge`: delete fetched media whose retention period has ended."""

from __future__ import annotations

from datetime import timedelta

import typer

from reclaim.cli.app import app
from reclaim.cli.context import console, database, settings

quarantine_app = typer.Typer(
    help="The encrypted quarantine of media fetched for review.", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("purge")
def purge() -> None:
    """Purge now what the scheduled job would purge (audited like the job)."""
    from reclaim.cases.retention import purge_expired
    from reclaim.cases.review import quarantine_store

    config = settings()
    with database(config) as session:
        outcome = purge_expired(
            session,
            quarantine_store(config),
            retention=timedelta(days=config.quarantine_retention_days),
        )
    console.print(
        f"Purged {outcome.purged} quarantined media "
        f"({outcome.objects} files removed, {outcome.orphans} without a record)."
    )
