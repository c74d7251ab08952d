"""`reclaim scan SOURCE... --out RESULTS`: bulk hashing and matching on Dask."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from reclaim.cli.app import app
from reclaim.cli.context import console, database, errors, fail, settings

if TYPE_CHECKING:
    from reclaim.config import Settings
    from reclaim.scanning.domain import Batch
    from reclaim.scanning.parts import Record
    from reclaim.scanning.runner import ScanPlan
    from reclaim.scanning.worker import ScanJob


@app.command("scan")
def scan(  # noqa: PLR0917 - typer maps each option to a parameter
    sources: Annotated[
        list[Path] | None,
        typer.Argument(help="Folders, zip/tar archives, files listing URLs, or single files."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="The results folder.")] = Path("scan-results"),
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the scan already started in --out.")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="A Dask scheduler (tcp://HOST:8786); default: a cluster on this machine."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Workers of the local cluster (default: cores).")
    ] = None,
    bank_set: Annotated[
        str | None, typer.Option(help="Only these banks, comma-separated (default: every bank).")
    ] = None,
    max_distance: Annotated[
        int | None, typer.Option(min=0, max=63, help="Largest PDQ distance (default: settings).")
    ] = None,
    dihedral: Annotated[
        bool, typer.Option(help="Also match rotated and mirrored pictures.")
    ] = False,
    exact: Annotated[
        bool,
        typer.Option(help="Hash images on the reference path (slower) instead of the fast path."),
    ] = False,
    case: Annotated[
        str | None, typer.Option(help="Attach matched files to this case (RC-...) as items.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Files per worker task.")] = 16,
) -> None:
    """Hash every image and video in SOURCES and match them against the banks.

    Results go to --out as results.jsonl, results.csv, results.parquet (with pyarrow)
    and summary.html; matched content is never copied.  A scan stopped at any point
    (Ctrl-C, a killed client or worker) is finished by `reclaim scan --resume --out
    RESULTS`, which hashes no finished file again.
    """
    from reclaim.cases.review import fetch_policy
    from reclaim.hashing import HashRequest
    from reclaim.scanning import merge, runner
    from reclaim.scanning.reports import write_outputs
    from reclaim.scanning.sources import SourceError, enumerate_units
    from reclaim.scanning.worker import ScanJob

    config = settings()
    out = out.resolve()
    if resume:
        try:
            plan = runner.load_plan(out)
        except runner.ScanError as exc:
            raise fail(str(exc), 2) from None
    else:
        plan = _new_plan(
            config,
            out,
            sources,
            banks=bank_set,
            max_distance=max_distance,
            dihedral=dihedral,
            exact=exact,
            batch_size=batch_size,
            case=case,
        )
    snapshot = out / runner.SNAPSHOT
    if not resume:
        _check_case(config, plan.case)
        _write_snapshot(config, snapshot, plan.banks)
        runner.save_plan(out, plan)
    try:
        units = enumerate_units([Path(s) for s in plan.sources])
    except SourceError as exc:
        raise fail(str(exc), 2) from None
    work, finished = runner.pending_batches(out, units, plan.batch_size)
    job = ScanJob(
        results=out,
        snapshot=snapshot,
        limits=config.hashing_limits(),
        request=HashRequest(dihedral=plan.dihedral, exact=plan.exact),
        max_distance=plan.max_distance,
        video_rule=plan.video_rule or config.video_rule(),
        fetch_policy=fetch_policy(config),
    )
    if work:
        client = runner.connect(scheduler, workers)
        try:
            _run(client, work, job, len(units), finished)
        except runner.ScanError as exc:
            raise fail(f"{exc}; finish with: reclaim scan --resume --out {out}") from None
        except KeyboardInterrupt:
            # Every finished result is already on disk (the part files).
            raise fail(f"stopped; finish with: reclaim scan --resume --out {out}", 130) from None
        finally:
            _close(client)
    # Streamed: neither the merge nor the writers hold the results in memory.
    merge.remove_leftovers(out)
    summary = write_outputs(out, merge.merged(out))
    attached = _attach(config, plan.case, out) if plan.case is not None else 0
    console.print(
        f"{summary.files} files ({summary.archives} archives), {summary.hashed} hashed, "
        f"{summary.matched} matched, {sum(summary.errors.values())} errors; results in {out}",
        highlight=False,
    )
    if plan.case:
        console.print(f"{attached} items added to case {plan.case}", highlight=False)


def _new_plan(
    config: Settings,
    out: Path,
    sources: list[Path] | None,
    *,
    banks: str | None,
    max_distance: int | None,
    dihedral: bool,
    exact: bool,
    batch_size: int,
    case: str | None,
) -> ScanPlan:
    from reclaim.scanning import runner

    if not sources:
        raise typer.BadParameter("name at least one source (or use --resume)")
    if (out / runner.MANIFEST).exists():
        raise fail(
            f"{out} already holds a scan: finish it with --resume, or choose another --out", 2
        )
    chosen = sorted({name.strip() for name in (banks or "").split(",") if name.strip()})
    return runner.ScanPlan(
        sources=tuple(str(source.resolve()) for source in sources),
        banks=tuple(chosen) if chosen else None,
        max_distance=config.match_max_distance if max_distance is None else max_distance,
        dihedral=dihedral,
        exact=exact,
        batch_size=batch_size,
        case=case,
        video_rule=config.video_rule(),
    )


def _run(client: Any, work: list[Batch], job: ScanJob, total: int, finished: int) -> None:
    from reclaim.scanning import runner

    dashboard = getattr(client, "dashboard_link", None)
    if dashboard and errors.is_terminal:
        errors.print(f"Dask dashboard: {dashboard}")
    progress = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )
    with progress:
        task = progress.add_task("", total=total, completed=finished)
        runner.run_batches(
            client, work, job, lambda batch, _done: progress.advance(task, len(batch.units))
        )


def _close(client: Any) -> None:
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _check_case(config: Settings, number: str | None) -> None:
    if number is None:
        return
    from reclaim.cases.casework import find_case

    with database(config) as session:
        if find_case(session, number) is None:
            raise fail(f"no case is numbered {number}", 2)


def _write_snapshot(config: Settings, directory: Path, banks: tuple[str, ...] | None) -> None:
    from sqlalchemy import select

    from reclaim.banks.models import Bank
    from reclaim.scanning.snapshot import bank_entries, write_snapshot

    with database(config) as session:
        if banks is not None:
            known = set(session.scalars(select(Bank.name).where(Bank.name.in_(banks))))
            missing = sorted(set(banks) - known)
            if missing:
                raise fail(f"no such bank: {', '.join(missing)}", 2)
        entries = bank_entries(session, banks)
    write_snapshot(directory, entries)


def _attach(config: Settings, number: str, out: Path) -> int:
    from reclaim.domain.clock import system_clock
    from reclaim.scanning.case_items import attach_matches

    with database(config) as session:
        return attach_matches(
            session, number, _matched(out / "results.jsonl"), source=str(out), clock=system_clock
        )


def _matched(results: Path) -> Iterator[Record]:
    """The matched results of the merged output, read line by line."""
    import json

    with results.open("rb") as lines:
        for line in lines:
            record: Record = json.loads(line)
            if record.get("matches") and not record.get("error"):
                yield record
