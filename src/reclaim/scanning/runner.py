"""Running a scan on Dask: plan, submit batches, follow progress, write the outputs.

The client (``reclaim scan``) holds no results in memory: workers write them to part
files in the results directory, which must be reachable by every worker at the same
path (one machine, or a shared file system, as the folders being scanned are).  The
manifest ``scan.json`` records what the scan is (sources, banks, options), so
``--resume`` repeats exactly that scan: units that already have a result line are not
submitted again, and batches that had begun skip what they had finished.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reclaim.matching.video import VideoRule
from reclaim.scanning import parts
from reclaim.scanning.domain import Batch, Unit, batches
from reclaim.scanning.worker import BatchDone, ScanJob, scan_batch

MANIFEST = "scan.json"
SNAPSHOT = "index"
FORMAT = 1


class ScanError(RuntimeError):
    """The scan cannot start or continue (a bad results folder, a lost cluster)."""


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """What ``scan.json`` records: enough to repeat the scan on ``--resume``."""

    sources: tuple[str, ...]
    banks: tuple[str, ...] | None
    max_distance: int
    dihedral: bool
    exact: bool
    batch_size: int
    case: str | None
    #: vPDQ's thresholds for videos (None in a manifest written before they were kept).
    video_rule: VideoRule | None = None

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, shape: dict[str, Any]) -> ScanPlan:
        if shape.get("format") != FORMAT:
            raise ScanError("the results folder was written by another version of Reclaim")
        banks = shape["banks"]
        rule = shape.get("video_rule")
        return cls(
            sources=tuple(shape["sources"]),
            banks=tuple(banks) if banks is not None else None,
            max_distance=int(shape["max_distance"]),
            dihedral=bool(shape["dihedral"]),
            exact=bool(shape["exact"]),
            batch_size=int(shape["batch_size"]),
            case=shape.get("case"),
            video_rule=VideoRule(**rule) if isinstance(rule, dict) else None,
        )


def save_plan(results: Path, plan: ScanPlan) -> None:
    results.mkdir(parents=True, exist_ok=True)
    temporary = results / (MANIFEST + ".tmp")
    temporary.write_text(json.dumps(plan.to_json(), indent=2), encoding="utf-8")
    os.replace(temporary, results / MANIFEST)


def load_plan(results: Path) -> ScanPlan:
    try:
        shape = json.loads((results / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScanError(f"{results} holds no scan to resume ({MANIFEST} is missing)") from None
    return ScanPlan.from_json(shape)


def pending_batches(results: Path, units: list[Unit], batch_size: int) -> tuple[list[Batch], int]:
    """The batches still to run, and how many units are already complete."""
    done = parts.done_keys(results)
    pending = [u for u in units if u.key not in done]
    return batches(pending, batch_size), len(units) - len(pending)


def run_batches(
    client: Any,
    work: list[Batch],
    job: ScanJob,
    on_done: Callable[[Batch, BatchDone], None],
) -> None:
    """Submit every batch and wait for all of them, reporting each as it finishes.

    Dask re-runs a batch whose worker died (``retries``), and the batch skips what its
    part file already holds.  A batch that keeps killing workers (a file that crashes
    the decoder) fails the scan, which ``--resume`` can continue after the cause is
    removed.
    """
    if not work:
        return
    by_key = {}
    futures = []
    for batch in work:
        future = client.submit(
            scan_batch, batch, job, key=f"reclaim-scan-{batch.id}", retries=3, pure=False
        )
        by_key[future.key] = batch
        futures.append(future)
    for future in _distributed().as_completed(futures):
        try:
            done = future.result()
        except Exception as exc:
            raise ScanError(f"a batch failed on the cluster: {exc}") from exc
        on_done(by_key[future.key], done)


def connect(scheduler: str | None, workers: int | None) -> Any:
    """A Dask client: to ``scheduler`` if given, else to a new LocalCluster here."""
    distributed = _distributed()
    if scheduler:
        return distributed.Client(scheduler, timeout="30s")
    cluster = distributed.LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0" if _has_dashboard() else None,
    )
    return distributed.Client(cluster)


def _distributed() -> Any:
    # Dask's distributed scheduler is an optional dependency (the scan extra), and its
    # API is untyped; it is imported only by the client that runs a scan.
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise ScanError(
            "bulk scanning needs Dask: pip install 'reclaim[scan]' (dask[distributed])"
        ) from exc


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = [
    "MANIFEST",
    "SNAPSHOT",
    "ScanError",
    "ScanPlan",
    "connect",
    "load_plan",
    "pending_batches",
    "run_batches",
    "save_plan",
]
