"""`reclaim backup DEST` and `reclaim restore SRC`: encrypted backups that restore."""

from __future__ import annotations

from pathlib import Path

import typer

from reclaim.cli.app import app
from reclaim.cli.context import console, errors, settings


def _passphrase(path: Path) -> str:
    from reclaim.config import secret_weakness

    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        errors.print(f"[red]Cannot read the passphrase file:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    weakness = secret_weakness(text)
    if weakness:
        errors.print(f"[red]The backup passphrase {weakness}.[/red]", highlight=False)
        raise typer.Exit(2)
    return text


PASSPHRASE = typer.Option(
    ...,
    "--passphrase-file",
    help="A file holding the passphrase that encrypts the backup (keep it apart from it).",
    exists=True,
    dir_okay=False,
)


@app.command("backup")
def backup(
    destination: Path = typer.Argument(..., help="A new (or empty) directory."),
    passphrase_file: Path = PASSPHRASE,
) -> None:
    """Back up the database, quarantine, checkpoints and keys, encrypted, while serving."""
    from reclaim.backups.taking import BackupError, take_backup

    config = settings()
    try:
        result = take_backup(config, destination, _passphrase(passphrase_file))
    except BackupError as exc:
        errors.print(f"[red]No backup taken:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print(
        f"Backup written to {result.directory}: {result.backend} database "
        f"({result.database_bytes} bytes), {result.quarantine_objects} quarantine objects, "
        f"{result.checkpoints} audit checkpoints, and the keys, encrypted."
    )


@app.command("restore")
def restore(
    source: Path = typer.Argument(..., help="A directory written by `reclaim backup`."),
    passphrase_file: Path = PASSPHRASE,
    settings_out: Path = typer.Option(
        ..., "--settings-out", help="Where to write the restored keys (a settings file, 0600)."
    ),
) -> None:
    """Restore a backup into an empty installation and check it (audit chain, quarantine)."""
    from reclaim.backups.restoring import RestoreError, restore_backup
    from reclaim.backups.sealing import BackupDecryptionError

    config = settings(needs_secrets=False)
    try:
        result = restore_backup(
            config, source, _passphrase(passphrase_file), settings_out=settings_out
        )
    except (RestoreError, BackupDecryptionError, FileExistsError) as exc:
        errors.print(f"[red]Not restored:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    console.print(
        f"Restored: the audit trail verifies ({result.audit_rows} rows, "
        f"{result.audit_checkpoints} checkpoints), {result.quarantine_objects} quarantine "
        f"objects decrypt. Add the keys in {result.settings_file} to the settings."
    )
