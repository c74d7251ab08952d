"""`reclaim patrol add|list|remove|run`: pages watched for re-uploads of confirmed content."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import select

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.banks.engine import MatchEngine
from reclaim.cases import review
from reclaim.cli.app import app
from reclaim.cli.context import console, database, fail, settings
from reclaim.fetching import SafeFetcher
from reclaim.platforms.models import Platform
from reclaim.scanning import patrol
from reclaim.storage.db import make_engine, make_session_factory

patrol_app = typer.Typer(
    help="Watched pages: the patrol re-fetches them for re-uploads.", no_args_is_help=True
)
app.add_typer(patrol_app, name="patrol")

OPERATOR = audit.Actor(ActorKind.OPERATOR)


@patrol_app.command("add")
def patrol_add(
    url: str = typer.Argument(..., help="The page to watch (a board, a user's page, a search)."),
    case: str = typer.Option(..., "--case", help="The case whose content the platform hosted."),
    platform: str | None = typer.Option(
        None, "--platform", help="Who gets the notices (default: by host, or the case's)."
    ),
) -> None:
    """Watch a page for re-uploads of a case's confirmed content."""
    with database(settings()) as session:
        platform_id = None
        if platform:
            found = session.scalar(select(Platform).where(Platform.name == platform))
            if found is None:
                raise fail(f"no platform {platform!r}", 2)
            platform_id = found.id
        try:
            watch = patrol.add_watch(session, url, case, actor=OPERATOR, platform_id=platform_id)
        except patrol.PatrolError as exc:
            raise fail(str(exc), 2) from exc
        console.print(f"Watching {watch.url} (#{watch.id}) for case {case.upper()}.")


@patrol_app.command("list")
def patrol_list() -> None:
    """List the watched pages, their case and their last run."""
    with database(settings()) as session:
        table = Table("id", "page", "case", "last run", "problem")
        for watch in patrol.active_watches(session):
            table.add_row(
                str(watch.id),
                watch.url,
                watch.case.number,
                watch.last_run_at.isoformat(timespec="minutes") if watch.last_run_at else "",
                watch.last_problem or "",
            )
    console.print(table)


@patrol_app.command("remove")
def patrol_remove(watch_id: int = typer.Argument(..., help="The id `patrol list` shows.")) -> None:
    """Stop watching a page (what it found stays in its case)."""
    with database(settings()) as session:
        try:
            watch = patrol.remove_watch(session, watch_id, actor=OPERATOR)
        except patrol.PatrolError as exc:
            raise fail(str(exc), 2) from exc
        console.print(f"No longer watching {watch.url}.")


@patrol_app.command("run")
def patrol_run() -> None:
    """Re-fetch every watched page now (as the hourly job does)."""
    config = settings()
    engine = make_engine(config.database_url)
    try:
        with make_session_factory(engine)() as session:  # the run commits page by page
            outcome = patrol.run(
                session,
                fetcher=SafeFetcher(patrol.fetch_policy(config)),
                store=review.quarantine_store(config),
                matcher=MatchEngine(),
                policy=review.ReviewPolicy.from_settings(config),
                pacer=patrol.HostPacer(config.patrol_host_interval_seconds),
            )
    finally:
        engine.dispose()
    console.print(
        f"{outcome.fetched} pages fetched, {outcome.media} pictures, {outcome.matched} matched; "
        f"{len(outcome.added)} re-uploads added, {len(outcome.drafted)} notices drafted "
        "for a supervisor to approve."
    )
