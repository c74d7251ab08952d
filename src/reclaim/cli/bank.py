"""`reclaim bank list|create|stats|import|export|withdraw`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.banks.banking import BankError, create_bank, ensure_builtin_banks, get_bank
from reclaim.banks.contents import bank_stats
from reclaim.banks.domain import Category
from reclaim.banks.exporting import export_entries
from reclaim.banks.formats import BankFormat
from reclaim.banks.importing import import_file
from reclaim.banks.withdrawing import parse_listed, withdraw
from reclaim.cli.app import app
from reclaim.cli.context import console, database, errors, fail, settings
from reclaim.storage.db import make_engine, make_session_factory

bank_app = typer.Typer(help="Hash banks: lists of signals with provenance.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")

OPERATOR = audit.Actor(ActorKind.OPERATOR)


@bank_app.command("list")
def bank_list() -> None:
    """List the banks and how many active signals each holds."""
    with database(settings()) as session:
        ensure_builtin_banks(session)
        stats = bank_stats(session)
    table = Table(
        Column("bank", no_wrap=True),
        "signals",
        "verified",
        "withdrawn",
        "last change",
        "description",
    )
    for bank in stats:
        table.add_row(
            bank.name,
            str(bank.total_active),
            str(bank.verified),
            str(bank.withdrawn),
            bank.last_change.isoformat(timespec="seconds") if bank.last_change else "never",
            bank.description,
        )
    console.print(table)


@bank_app.command("create")
def bank_create(
    name: str,
    description: str = typer.Option("", help="What the list is and where it is from."),
    verified: bool = typer.Option(
        False, "--verified", help="Its source vouches that a person saw every picture."
    ),
    category: Category | None = typer.Option(
        None, "--category", help="What every entry is of (otherwise each line says)."
    ),
) -> None:
    """Create a bank (e.g. for a list received from another hotline)."""
    try:
        with database(settings()) as session:
            create_bank(
                session, name, description, verified=verified, category=category, actor=OPERATOR
            )
    except BankError as exc:
        raise fail(str(exc)) from None
    console.print(f"created bank {name}")


@bank_app.command("stats")
def bank_stats_command(
    name: str | None = typer.Argument(None, help="One bank (default: all)."),
) -> None:
    """Signals per type, verified and withdrawn counts, last change."""
    with database(settings()) as session:
        ensure_builtin_banks(session)
        stats = bank_stats(session)
    if name is not None:
        stats = [s for s in stats if s.name == name]
        if not stats:
            raise fail(f"no bank named {name!r}")
    for bank in stats:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(bank.active.items())) or "empty"
        last = bank.last_change.isoformat(timespec="seconds") if bank.last_change else "never"
        console.print(
            f"[bold]{bank.name}[/bold]: {kinds}; verified {bank.verified}; "
            f"withdrawn {bank.withdrawn}; last change {last}"
        )


@bank_app.command("import")
def bank_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    bank: str = typer.Option(..., "--bank", help="Bank to import into."),
    file_format: BankFormat = typer.Option(None, "--format", help="Default: from the file name."),
    strict: bool = typer.Option(False, help="Import nothing if any line is bad."),
) -> None:
    """Import signals; bad lines are reported by number, the rest imported."""
    config = settings()
    chosen = file_format or _guess_format(file)
    total = _count_lines(file)
    engine = make_engine(config.database_url)
    try:
        with Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,
            disable=not errors.is_terminal,
        ) as bar:
            task = bar.add_task("import", total=total)
            report = import_file(
                make_session_factory(engine),
                bank_name=bank,
                path=file,
                file_format=chosen,
                strict=strict,
                min_pdq_quality=config.bank_min_pdq_quality,
                actor=OPERATOR,
                progress=lambda lines: bar.update(task, completed=lines),
            )
    except BankError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    for error in report.errors:
        errors.print(f"{file.name}: {error}")
    if report.error_count > len(report.errors):
        errors.print(f"... and {report.error_count - len(report.errors)} more bad lines")
    for signal, reason in report.outcome.rejected[:100]:
        errors.print(f"not banked: {signal}: {reason}")
    if not report.imported:
        raise fail(f"--strict: {report.error_count} bad lines, nothing imported")
    outcome = report.outcome
    console.print(
        f"{report.lines} lines: {outcome.added} added, {outcome.reactivated} re-added, "
        f"{outcome.unchanged} already banked, {len(outcome.rejected)} not banked, "
        f"{report.error_count} bad"
    )
    if report.error_count:
        raise typer.Exit(1)


@bank_app.command("export")
def bank_export(
    bank: str = typer.Option(..., "--bank"),
    file_format: BankFormat = typer.Option(BankFormat.LOCAL_FILE, "--format"),
    output: Path | None = typer.Option(None, "--output", "-o", help="Default: standard output."),
) -> None:
    """Export a bank's active signals."""
    with database(settings()) as session:
        try:
            target = get_bank(session, bank)
        except BankError as exc:
            raise fail(str(exc)) from None
        pieces = export_entries(session, target, file_format, actor=OPERATOR)
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            for piece in pieces:
                stream.write(piece)
        finally:
            if output:
                stream.close()


def _guess_format(path: Path) -> BankFormat:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return BankFormat.CSV
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return BankFormat.JSONL
    return BankFormat.LOCAL_FILE


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            count += chunk.count(b"\n")
    return count


@bank_app.command("withdraw")
def bank_withdraw(
    bank: str = typer.Option(..., "--bank", help="The bank to withdraw from."),
    reason: str = typer.Option(
        ..., "--reason", help="Why (partners see it with the tombstones in the feed)."
    ),
    signal: list[str] = typer.Option([], "--hash", help="TYPE:VALUE, e.g. md5:0123… (repeatable)."),
    listed: Path | None = typer.Option(
        None, "--file", exists=True, dir_okay=False, readable=True, help="One TYPE VALUE a line."
    ),
) -> None:
    """Withdraw hashes from a bank: tombstones reach partners through the feed."""
    lines = list(signal)
    if listed is not None:
        lines += listed.read_text(encoding="utf-8").splitlines()
    signals, problems = parse_listed(lines)
    for problem in problems:
        errors.print(problem)
    if problems:
        raise fail(f"{len(problems)} bad lines: nothing withdrawn")
    if not signals:
        raise fail("give hashes with --hash TYPE:VALUE or --file LIST")
    try:
        with database(settings()) as session:
            outcome = withdraw(
                session, get_bank(session, bank), signals, reason=reason, actor=OPERATOR
            )
    except BankError as exc:
        raise fail(str(exc)) from None
    for missing in outcome.not_active[:100]:
        errors.print(f"not active in {bank}: {missing}")
    console.print(f"withdrew {outcome.withdrawn} of {len(signals)} from {bank}")
