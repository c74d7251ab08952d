"""`reclaim feed-guard allow|disallow|allowed|holds|release`: the allow list of benign
hashes and the flood guard's holds (docs/safety.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from reclaim import audit
from reclaim.audit.domain import ActorKind
from reclaim.banks import feed_guard
from reclaim.banks.domain import HoldOutcome
from reclaim.banks.withdrawing import parse_listed
from reclaim.cli.app import app
from reclaim.cli.context import console, database, errors, fail, settings
from reclaim.domain.signals import Signal

guard_app = typer.Typer(
    help="Keep benign and disputed hashes out of the feed.", no_args_is_help=True
)
app.add_typer(guard_app, name="feed-guard")

OPERATOR = audit.Actor(ActorKind.OPERATOR)
HASHES = typer.Option([], "--hash", help="TYPE:VALUE, e.g. md5:0123… (repeatable).")
LIST_FILE = typer.Option(
    None, "--file", exists=True, dir_okay=False, readable=True, help="One TYPE VALUE a line."
)


def _signals(hashes: list[str], listed: Path | None) -> list[Signal]:
    lines = list(hashes)
    if listed is not None:
        lines += listed.read_text(encoding="utf-8").splitlines()
    signals, problems = parse_listed(lines)
    for problem in problems:
        errors.print(problem)
    if problems:
        raise fail(f"{len(problems)} bad lines: nothing changed")
    if not signals:
        raise fail("give hashes with --hash TYPE:VALUE or --file LIST")
    return signals


@guard_app.command("allow")
def allow(
    note: str = typer.Option(..., "--note", help="What these are (a meme, stock photos…)."),
    hashes: list[str] = HASHES,
    listed: Path | None = LIST_FILE,
) -> None:
    """Put hashes on the allow list: withdrawn from every unverified bank, never banked
    there again."""
    signals = _signals(hashes, listed)
    with database(settings()) as session:
        outcome = feed_guard.allow(session, signals, note=note, actor=OPERATOR)
    console.print(
        f"allow-listed {outcome.added} ({outcome.already} already), "
        f"withdrew {outcome.withdrawn} from unverified banks"
    )


@guard_app.command("disallow")
def disallow(hashes: list[str] = HASHES, listed: Path | None = LIST_FILE) -> None:
    """Take hashes off the allow list."""
    signals = _signals(hashes, listed)
    with database(settings()) as session:
        removed = feed_guard.disallow(session, signals, actor=OPERATOR)
    console.print(f"removed {removed} from the allow list")


@guard_app.command("allowed")
def allowed() -> None:
    """List the allow list."""
    with database(settings()) as session:
        rows = feed_guard.allow_listed(session)
    for signal, note, added in rows:
        console.print(f"{signal}  {added.isoformat(timespec='seconds')}  {note}", soft_wrap=True)


@guard_app.command("holds")
def holds() -> None:
    """Self-reported hashes the flood guard holds out of the feed, and the figures."""
    with database(settings()) as session:
        for hold in feed_guard.open_holds(session):
            entry = hold.entry
            console.print(
                f"hold {hold.id}: {entry.signal.type.value}:{entry.signal.value} "
                f"(case {entry.source_ref or '-'}) {hold.reason.value}, "
                f"{hold.partners} partners, held {hold.held_at.isoformat(timespec='seconds')}",
                soft_wrap=True,
            )
        figures = feed_guard.figures(session)
    console.print(
        f"held {figures.held_pending} (matches {figures.held_for_matches}, not violating "
        f"{figures.held_for_feedback}); restored {figures.restored}; judged benign "
        f"{figures.judged_benign}; allow list {figures.allow_listed}"
    )


@guard_app.command("release")
def release(
    hold: int,
    outcome: HoldOutcome = typer.Option(
        ..., "--as", help="restored: back into the feed; benign: onto the allow list."
    ),
) -> None:
    """Decide on a held hash."""
    try:
        with database(settings()) as session:
            feed_guard.release(session, hold, outcome, actor=OPERATOR)
    except feed_guard.HoldError as exc:
        raise fail(str(exc)) from None
    console.print(f"hold {hold}: {outcome.value}")
