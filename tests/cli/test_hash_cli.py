"""`reclaim hash`, run in-process through typer's CliRunner."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from reclaim.cli import commands  # noqa: F401 - registers every command, as `reclaim` does
from reclaim.cli.app import app
from reclaim.cli.hash import _progress
from reclaim.domain.signals import pdq_distance
from tests.support.testdata import PDQ_IMAGES, VIDEOS, pdq_reference

DEVELOPMENT = {"RECLAIM_ENVIRONMENT": "development"}
BRIDGE = PDQ_IMAGES / "bridge-mods" / "aaa-orig.jpg"


def reclaim_hash(*args: str | Path, env: Mapping[str, str | None] = DEVELOPMENT) -> Result:
    return CliRunner().invoke(app, ["hash", *map(str, args)], env=env)


def json_lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_json_over_the_pdq_folder_reproduces_the_reference() -> None:
    result = reclaim_hash("--json", PDQ_IMAGES)

    assert result.exit_code == 0, result.output
    printed = json_lines(result)
    reference = pdq_reference()
    # Sorted walk, media files only (the folder's README.md is not an image).
    assert [Path(str(o["path"])).relative_to(PDQ_IMAGES).as_posix() for o in printed] == [
        row.path for row in reference
    ]
    for shape, row in zip(printed, reference, strict=True):
        expected: dict[str, object] = {
            "path": str(PDQ_IMAGES / row.path),
            "kind": "image",
            "md5": row.md5,
            "sha256": row.sha256,
            "pdq": {"hash": row.pdq_rgb, "quality": row.quality_rgb},
        }
        if row.threatexchange_differs:
            expected["pdq_threatexchange"] = {"hash": row.pdq, "quality": row.quality}
        assert shape == expected


def test_failures_are_reported_and_the_rest_still_hashed(tmp_path: Path) -> None:
    readme = PDQ_IMAGES / "misc-images" / "modes" / "README.md"
    missing = tmp_path / "gone.jpg"

    result = reclaim_hash("--json", readme, missing, BRIDGE)

    assert result.exit_code == 1
    first, second, third = json_lines(result)
    assert first == {
        "path": str(readme),
        "error": "not an image or video Reclaim can hash: the content is text",
    }
    assert second == {"path": str(missing), "error": "no such file"}
    assert third["path"] == str(BRIDGE)
    assert third["pdq"] == {"hash": pdq_reference()[0].pdq_rgb, "quality": 100}


def test_folders_are_walked_for_media_files_named_files_are_always_hashed(
    tmp_path: Path,
) -> None:
    for name in ("b.png", "sub/a.JPG", "notes.txt", ".hidden.jpg", ".git/c.jpg", "a.jpeg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BRIDGE, tmp_path / name)

    walked = reclaim_hash("--json", tmp_path)
    named = reclaim_hash("--json", tmp_path / "notes.txt")

    assert walked.exit_code == 0
    assert [o["path"] for o in json_lines(walked)] == [
        str(tmp_path / "a.jpeg"),
        str(tmp_path / "b.png"),
        str(tmp_path / "sub" / "a.JPG"),
    ]
    assert named.exit_code == 0
    assert json_lines(named)[0]["kind"] == "image"  # the content decides, not the name


def test_videos_print_their_frame_hashes() -> None:
    video = VIDEOS / "pattern-sd-grey-bar.mp4"

    default = json_lines(reclaim_hash("--json", video))[0]
    every = json_lines(reclaim_hash("--json", "--seconds-per-hash", "0", video))[0]

    assert list(default) == ["path", "kind", "md5", "sha256", "vpdq"]
    assert default["kind"] == "video"
    assert isinstance(default["vpdq"], list)
    assert isinstance(every["vpdq"], list)
    assert [f["frame"] for f in default["vpdq"]] == [0, 30, 60, 90, 120, 150, 180]
    assert len(every["vpdq"]) == 206
    assert every["vpdq"][30] == default["vpdq"][1]
    assert set(every["vpdq"][0]) == {"frame", "timestamp", "hash", "quality"}


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_seconds_per_hash_is_checked(value: str) -> None:
    result = reclaim_hash("--seconds-per-hash", value, VIDEOS / "pattern-sd-grey-bar.mp4")

    assert result.exit_code == 2
    assert "--seconds-per-hash" in result.stderr


def test_readable_output_without_json() -> None:
    result = reclaim_hash(BRIDGE, PDQ_IMAGES / "misc-images" / "modes" / "P.png")

    assert result.exit_code == 0
    assert str(BRIDGE) in result.stdout
    assert "image   JPEG, 1600 x 1004" in result.stdout
    for line in (
        "pdq     f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22  quality 100",
        "md5     d35c785545392755e7e4164457657269",
        "pdq-tx  70f870eee8f4ea458a178a3002cf67f0b32e27f597223e9533a4e38d4a9d9a2a  quality 100",
    ):
        assert line in result.stdout
    assert "2 of 2 files hashed." in result.stderr


def test_settings_that_are_not_usable_stop_the_command() -> None:
    result = reclaim_hash(
        BRIDGE, env={"RECLAIM_ENVIRONMENT": "production", "RECLAIM_MAX_IMAGE_PIXELS": "lots"}
    )

    assert result.exit_code == 2
    assert "RECLAIM_MAX_IMAGE_PIXELS" in result.stderr
    assert result.stdout == ""


def test_hashing_needs_no_configured_secret_but_honours_limits() -> None:
    unset = {"RECLAIM_ENVIRONMENT": "production", "RECLAIM_SECRET_KEY": None}
    assert reclaim_hash(BRIDGE, env=unset).exit_code == 0
    tiny = reclaim_hash("--json", BRIDGE, env={**unset, "RECLAIM_MAX_IMAGE_PIXELS": "100"})
    assert tiny.exit_code == 1
    assert "limit" in json_lines(tiny)[0]["error"]


@pytest.mark.parametrize(("terminal", "files", "shown"), [(True, 12, True), (True, 3, False)])
def test_a_progress_bar_only_on_a_terminal_and_for_many_files(
    terminal: bool, files: int, shown: bool
) -> None:
    screen = io.StringIO()
    stderr = Console(file=screen, force_terminal=terminal)

    with _progress(stderr, files) as progress:
        assert (progress is not None) == shown
        if progress:
            progress.advance(progress.task_ids[0])
            progress.refresh()
    assert ("1/12" in screen.getvalue()) == shown


def test_no_progress_bar_when_stderr_is_not_a_terminal() -> None:
    with _progress(Console(file=io.StringIO(), force_terminal=False), 100) as progress:
        assert progress is None


def test_fast_is_within_a_few_bits_and_exact_is_the_reference() -> None:
    fast = json_lines(reclaim_hash("--json", "--fast", PDQ_IMAGES / "bridge-mods"))
    exact = json_lines(reclaim_hash("--json", "--exact", PDQ_IMAGES / "bridge-mods"))
    reference = {row.path: row for row in pdq_reference()}
    assert len(fast) == len(exact) == 12
    for quick, slow in zip(fast, exact, strict=True):
        row = reference[Path(str(slow["path"])).relative_to(PDQ_IMAGES).as_posix()]
        assert slow["pdq"] == {"hash": row.pdq_rgb, "quality": row.quality_rgb}
        assert quick["md5"] == row.md5
        quick_pdq = quick["pdq"]
        assert isinstance(quick_pdq, dict)
        assert pdq_distance(str(quick_pdq["hash"]), row.pdq_rgb) <= 8
