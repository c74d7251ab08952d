"""`reclaim hash PATH...`: MD5, SHA-256 and PDQ / vPDQ hashes of image and video files.

With ``--json`` it prints one JSON object per file and line (the shape of
``ImageHashes.to_json`` / ``VideoHashes.to_json``, or ``{"path", "error"}``), which
is what scripts and platform engineers consume; otherwise a readable summary.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from reclaim.cli.app import app

if TYPE_CHECKING:
    from reclaim.hashing import HashingLimits, HashResult

#: Extensions considered when walking a directory (files named explicitly are
#: always hashed, whatever their name: the content decides the format).
MEDIA_SUFFIXES = frozenset(
    {
        *(".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"),
        *(".heic", ".heif", ".avif"),
        *(".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".3gp"),
    }
)
#: Below this many files a progress bar is more noise than help.
PROGRESS_MIN_FILES = 10


@app.command("hash")
def hash_files(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Image or video files, or directories to search recursively."),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per file, one per line.")
    ] = False,
    seconds_per_hash: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Videos: hash one frame every this many seconds, as vPDQ does (0: every frame).",
        ),
    ] = 1.0,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact/--fast",
            help="Images: the reference path (full decode, Meta's PDQ; the default) or the "
            "fast path of bulk scans (reduced JPEG decoding; within a few bits).",
        ),
    ] = True,
) -> None:
    """Hash images (MD5, SHA-256, PDQ) and videos (MD5, SHA-256, vPDQ frame hashes).

    Folders are searched recursively, in sorted order, for image and video files.
    Hidden files are skipped there; files named explicitly are always hashed.
    A file that cannot be hashed is reported, the rest are hashed, and the exit status is 1.
    """
    from reclaim.hashing import HashingError, HashRequest, hash_file

    if not math.isfinite(seconds_per_hash):
        raise typer.BadParameter("must be a finite number", param_hint="--seconds-per-hash")
    limits = _limits()
    request = None if exact else HashRequest()
    files = list(_expand(paths))
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    failures = 0
    with _progress(err, len(files)) as progress:
        # While a bar is drawn, text for the same terminal must go through the bar's
        # console, or the two overwrite each other.
        printer = progress.console if progress and out.is_terminal else out
        for path in files:
            shown = _display(path)
            if progress:
                progress.update(progress.task_ids[0], description=escape(path.name))
            try:
                result = hash_file(path, limits, seconds_per_hash=seconds_per_hash, request=request)
            except HashingError as exc:
                failures += 1
                _print_error(printer if as_json else err, shown, str(exc), as_json=as_json)
            else:
                _print_result(printer, shown, result, as_json=as_json)
            if progress:
                progress.advance(progress.task_ids[0])
    if not as_json:
        err.print(f"{len(files) - failures} of {len(files)} files hashed.")
    if failures:
        raise typer.Exit(1)


def _limits() -> HashingLimits:
    # Settings, not defaults: an operator's limits apply to the CLI as to the server.
    from reclaim.cli.context import settings

    return settings(needs_secrets=False).hashing_limits()


def _expand(paths: Sequence[Path]) -> Iterator[Path]:
    """Named files as given; directories walked for media files, in sorted order."""
    for path in paths:
        if not path.is_dir():
            yield path  # hashing reports a missing or unreadable path
            continue
        found: list[Path] = []
        for folder, subfolders, names in os.walk(path):  # symlinked folders not followed
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            found.extend(
                Path(folder, name)
                for name in names
                if not name.startswith(".") and Path(name).suffix.lower() in MEDIA_SUFFIXES
            )
        yield from sorted(found, key=lambda file: file.relative_to(path).parts)


@contextmanager
def _progress(err: Console, total: int) -> Iterator[Progress | None]:
    if total < PROGRESS_MIN_FILES or not err.is_terminal:
        yield None
        return
    progress = Progress(
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
        # Results go to stdout; rich must not capture them into the bar's console,
        # which is stderr and would break `reclaim hash --json ... > out.jsonl`.
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with progress:
        progress.add_task("", total=total)
        yield progress


def _print_result(console: Console, shown: str, result: HashResult, *, as_json: bool) -> None:
    from reclaim.hashing import ImageHashes

    if as_json:
        _print_json(console, result.to_json(shown))
        return
    console.print(f"[bold]{escape(shown)}[/bold]")
    if isinstance(result, ImageHashes):
        console.print(f"  image   {result.format}, {result.width} x {result.height}")
        console.print(f"  pdq     {result.pdq.value}  quality {result.pdq.quality}")
        if result.pdq_threatexchange is not None:
            tx = result.pdq_threatexchange
            console.print(
                f"  pdq-tx  {tx.value}  quality {tx.quality}  "
                "(python-threatexchange's differing hash)"
            )
    else:
        every = (
            "every frame"
            if result.seconds_per_hash == 0
            else f"one every {result.seconds_per_hash:g} s"
        )
        console.print(
            f"  video   {result.format}, {result.width} x {result.height}, "
            f"{result.frame_rate:g} fps; {len(result.frames)} frames hashed ({every}; "
            "--json lists them)"
        )
    console.print(f"  md5     {result.md5}")
    console.print(f"  sha256  {result.sha256}")


def _print_error(console: Console, shown: str, message: str, *, as_json: bool) -> None:
    if as_json:
        _print_json(console, {"path": shown, "error": message})
    else:
        console.print(f"[bold]{escape(shown)}[/bold]\n  [red]error[/red]   {escape(message)}")


def _print_json(console: Console, shape: dict[str, object]) -> None:
    console.print(json.dumps(shape, ensure_ascii=False), markup=False, highlight=False, emoji=False)


def _display(path: Path) -> str:
    # Names that are not valid UTF-8 arrive as surrogate escapes, which cannot be
    # printed or put in JSON; show them with replacement characters instead.
    return os.fsencode(path).decode("utf-8", errors="replace")


__all__ = ["MEDIA_SUFFIXES", "hash_files"]
