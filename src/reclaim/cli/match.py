"""`reclaim match PATH|HASH...`: look files or hashes up in the banks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from reclaim.banks.engine import Match, MatchEngine
from reclaim.cli.app import app
from reclaim.cli.context import console, database, errors, settings
from reclaim.domain.signals import InvalidSignalError, Signal, SignalType
from reclaim.hashing.limits import HashingLimits

_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass
class Query:
    """One command-line input and the signals it stands for."""

    text: str
    signals: list[Signal] = field(default_factory=list)
    dihedral: list[str] | None = None  # 8 hex hashes, for the PDQ signal of an image
    error: str | None = None


@app.command("match")
def match(
    inputs: list[str] = typer.Argument(
        ..., help="Files, or hashes (pdq:HEX, md5:HEX, sha256:HEX, or bare hex)."
    ),
    max_distance: int | None = typer.Option(
        None, help="Largest PDQ distance (default: settings, 31)."
    ),
    dihedral: bool = typer.Option(
        False, help="Also match rotated and mirrored versions of images."
    ),
    bank: list[str] = typer.Option([], "--bank", help="Only these banks (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per input."),
) -> None:
    """Print the bank entries each input matches: bank, signal, distance, verified."""
    config = settings()
    radius = config.match_max_distance if max_distance is None else max_distance
    if not 0 <= radius <= 63:
        raise typer.BadParameter("must be 0–63", param_hint="--max-distance")
    queries = [_query(text, config.hashing_limits(), dihedral) for text in inputs]
    with database(config) as session:
        engine = MatchEngine.load(config.index_dir, session)
        results = [
            _lookup(engine, session, q, radius, set(bank) if bank else None) for q in queries
        ]
    for query, found in zip(queries, results, strict=True):
        _print(query, found, as_json)
    if any(q.error for q in queries):
        raise typer.Exit(1)


def _lookup(
    engine: MatchEngine, session: Session, query: Query, radius: int, banks: set[str] | None
) -> list[Match]:
    if query.error or not query.signals:
        return []
    variants = None
    if query.dihedral is not None:
        variants = [query.dihedral for s in query.signals if s.type is SignalType.PDQ]
    return engine.match(session, query.signals, max_distance=radius, dihedral=variants, banks=banks)


def _query(text: str, limits: HashingLimits, dihedral: bool) -> Query:
    path = Path(text)
    if path.exists():
        return _file_query(text, path, limits, dihedral)
    kind, _, value = text.rpartition(":")
    try:
        if kind:
            return Query(text, [Signal.parse(kind, value)])
        if _HEX.fullmatch(text) and len(text) == 32:
            return Query(text, [Signal.parse("md5", text)])
        if _HEX.fullmatch(text) and len(text) == 64:
            # A bare 64-hex value could be PDQ or SHA-256: look it up as both.
            return Query(text, [Signal.parse("pdq", text), Signal.parse("sha256", text)])
    except InvalidSignalError as exc:
        return Query(text, error=str(exc))
    return Query(text, error="not a file, and not a hash (pdq:HEX, md5:HEX, sha256:HEX)")


def _file_query(text: str, path: Path, limits: HashingLimits, dihedral: bool) -> Query:
    from reclaim.hashing import HashingError, ImageHashes, hash_file

    try:
        hashes = hash_file(path, limits)
    except HashingError as exc:
        return Query(text, error=str(exc))
    if isinstance(hashes, ImageHashes):
        signals = [s for s in hashes.signals() if s.type is not SignalType.PDQ]
        signals.insert(0, hashes.pdq.signal)
        query = Query(text, signals)
        if dihedral and hashes.dihedral is not None:
            query.dihedral = [h.value for h in hashes.dihedral.hashes()]
            # The python-threatexchange variant has no dihedral set of its own.
            query.signals = [
                s for s in signals if s.type is not SignalType.PDQ or s == hashes.pdq.signal
            ]
        return query
    return Query(
        text, [Signal(SignalType.MD5, hashes.md5), Signal(SignalType.SHA256, hashes.sha256)]
    )


def _print(query: Query, found: list[Match], as_json: bool) -> None:
    if as_json:
        record: dict[str, object] = {"input": query.text}
        if query.error:
            record["error"] = query.error
        else:
            record["matches"] = [
                {
                    "bank": m.bank,
                    "signal_type": m.signal.type.value,
                    "value": m.signal.value,
                    "query_signal": query.signals[m.query_index].type.value,
                    "distance": m.distance,
                    "verified": m.verified,
                }
                for m in found
            ]
        typer.echo(json.dumps(record, ensure_ascii=False))
        return
    if query.error:
        errors.print(f"{query.text}: [red]{query.error}[/red]")
        return
    if not found:
        console.print(f"{query.text}: no match")
        return
    table = Table("bank", "signal", "distance", "verified", title=query.text, title_justify="left")
    for m in found:
        table.add_row(m.bank, str(m.signal), str(m.distance), "yes" if m.verified else "no")
    console.print(table)
