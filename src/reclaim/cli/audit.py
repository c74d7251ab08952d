"""`reclaim audit verify`: check that no audit row was altered, removed or added."""

from __future__ import annotations

import typer

from reclaim import audit
from reclaim.cli.app import app
from reclaim.cli.context import console, database, errors, settings

audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Walk the whole chain; name the first row that was altered or removed (exit 1)."""
    with database(settings()) as session:
        check = audit.verify_chain(session)
    if check.ok:
        console.print(f"OK: the audit trail is intact ({check.rows_checked} rows checked).")
        return
    errors.print(
        f"[red]The audit trail is broken at row {check.first_bad_id}:[/red] {check.problem}. "
        f"{check.rows_checked} rows before it are intact.",
        markup=True,
        highlight=False,
    )
    raise typer.Exit(1)
