"""`reclaim audit verify` and `reclaim audit checkpoint`: the keyed chain and its anchors."""

from __future__ import annotations

from pathlib import Path

import typer

from reclaim import audit
from reclaim.cli.app import app
from reclaim.cli.context import console, errors, reading, settings

audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify(
    checkpoints: Path | None = typer.Option(
        None,
        "--checkpoints",
        help="A directory of signed checkpoints: every one must verify and match the chain.",
        file_okay=False,
    ),
) -> None:
    """Walk the whole chain; name the first row that was altered or removed (exit 1)."""
    from reclaim.oversight.checkpoints import CheckpointError, verify_with_checkpoints
    from reclaim.security.signing import signing_keyring

    config = settings()
    anchored = 0
    with reading(config) as session:
        if checkpoints is None:
            check = audit.verify_chain(session)
        else:
            try:
                check, found = verify_with_checkpoints(
                    session, checkpoints, public_keys=signing_keyring(config).public_keys()
                )
            except CheckpointError as exc:
                errors.print(
                    f"[red]A checkpoint does not verify:[/red] {exc}",
                    markup=True,
                    highlight=False,
                )
                raise typer.Exit(1) from None
            anchored = len(found)
    if check.ok:
        console.print(
            f"OK: the audit trail is intact ({check.rows_checked} rows checked"
            + (f", {anchored} signed checkpoints matched)." if checkpoints else ").")
        )
        return
    errors.print(
        f"[red]The audit trail is broken at row {check.first_bad_id}:[/red] {check.problem}. "
        f"{check.rows_checked} rows before it are intact.",
        markup=True,
        highlight=False,
    )
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint() -> None:
    """Sign the chain's head into RECLAIM_AUDIT_CHECKPOINT_DIR (and send it to witnesses)."""
    from reclaim.oversight.checkpoints import ChainBrokenError, CheckpointError, checkpoint_now
    from reclaim.storage.db import make_engine, make_session_factory

    config = settings()
    engine = make_engine(config.database_url)
    try:
        taken = checkpoint_now(make_session_factory(engine), config)
    except (ChainBrokenError, CheckpointError) as exc:
        errors.print(f"[red]No checkpoint written:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if taken is None:
        console.print("Nothing new: the chain's head is already checkpointed (or empty).")
        return
    written, path, problems = taken
    console.print(f"Checkpoint of row {written.sequence} written to {path}")
    for problem in problems:
        errors.print(f"[yellow]{problem}[/yellow]", markup=True, highlight=False)
