"""``reclaim scan`` on a real Dask cluster on loopback: a ``dask scheduler`` and two
``dask worker`` processes, over a folder, a hostile zip and a URL list served by a
loopback platform (with a trimmed copy of a banked video and a different video); the
matches checked against a brute-force twin.  Then the resume
test: a worker and the client killed mid-scan, and every file found exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reclaim.banks import banking, videos
from reclaim.banks.domain import Category, EntrySource
from reclaim.hashing import HashingLimits, HashRequest, VideoHashes, hash_file
from reclaim.matching.video import FrameList
from reclaim.scanning.snapshot import Entry, bank_entries, video_frames
from reclaim.storage.db import make_engine, make_session_factory
from tests.conftest import sqlite_copy
from tests.support.cases import bank_verified, make_case
from tests.support.dask_cluster import Cluster, start_cluster
from tests.support.http import Handler, LoopbackServer, content, send
from tests.support.scanning import brute_force, entries_for, hostile_zip, photos, write_folder
from tests.support.settings import TEST_AUDIT_KEY, TEST_QUARANTINE_KEY, TEST_SIGNING_KEY
from tests.support.testdata import VIDEOS
from tests.support.videos import variant

pytestmark = pytest.mark.slow
BANKED_VIDEO = VIDEOS / "chair-orig-22-sd-bar.mp4"
OTHER_VIDEO = VIDEOS / "pattern-sd-grey-bar.mp4"
RECLAIM = Path(sys.executable).parent / "reclaim"
#: Bound on waiting for a subprocess on a loaded machine; never reached when all is well.
PATIENCE = 300


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # One cluster for the module (starting one costs seconds); the resume test
    # replaces the worker it kills, so either test may run first.
    started = start_cluster(tmp_path_factory.mktemp("cluster"))
    yield started
    started.stop()


@pytest.fixture
def platform() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


def environment(tmp_path: Path, database: str) -> dict[str, str]:
    return {
        **os.environ,
        "RECLAIM_ENVIRONMENT": "test",
        "RECLAIM_SECRET_KEY": "test-secret-key-0123456789abcdef",
        "RECLAIM_DATABASE_URL": database,
        "RECLAIM_DATA_DIR": str(tmp_path / "data"),
        "RECLAIM_QUARANTINE_KEYS": json.dumps({"k1": TEST_QUARANTINE_KEY}),
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID": "k1",
        "RECLAIM_SIGNING_KEYS": json.dumps({"s1": TEST_SIGNING_KEY}),
        "RECLAIM_SIGNING_CURRENT_KEY_ID": "s1",
        "RECLAIM_AUDIT_KEYS": json.dumps({"a1": TEST_AUDIT_KEY}),
        "RECLAIM_AUDIT_CURRENT_KEY_ID": "a1",
        "RECLAIM_FETCH_ALLOWLIST": json.dumps(["127.0.0.1/32"]),
    }


def bank(database: str, images: list[bytes]) -> None:
    engine = make_engine(database)
    with make_session_factory(engine).begin() as session:
        for entry in entries_for(images):
            bank_verified(session, entry.signal)
    engine.dispose()


def frames_of(path: Path) -> FrameList:
    hashed = hash_file(path, HashingLimits(), request=HashRequest())
    assert isinstance(hashed, VideoHashes)
    return video_frames(hashed)


def bank_video(database: str, path: Path) -> None:
    frames = frames_of(path)
    engine = make_engine(database)
    with make_session_factory(engine).begin() as session:
        banking.add_signals(
            session,
            banking.verified_bank(session, Category.CSAM),
            [
                banking.NewEntry(
                    videos.signal_of(frames),
                    videos.best_quality(frames),
                    verified=True,
                    category=Category.CSAM,
                    verified_via="test",
                    frames=frames,
                )
            ],
            source=EntrySource.IMPORT,
            source_ref="test",
            min_pdq_quality=50,
        )
    engine.dispose()


def banked_entries(database: str) -> list[Entry]:
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        found = bank_entries(session, None)
    engine.dispose()
    return found


def results(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]


def test_a_scan_on_a_real_cluster_matches_the_brute_force_twin(
    tmp_path: Path, cluster: Cluster, platform: LoopbackServer, database: str
) -> None:
    images = photos(12)
    folder_images, zip_images, url_images = images[:6], images[6:9], images[9:]
    write_folder(tmp_path / "device", folder_images)
    (tmp_path / "device" / "clip.mp4").write_bytes(
        variant(BANKED_VIDEO, skip_seconds=2.0, max_seconds=21.0)
    )
    (tmp_path / "device" / "other.mp4").write_bytes(OTHER_VIDEO.read_bytes())
    (tmp_path / "seized.zip").write_bytes(hostile_zip(zip_images))
    for number, data in enumerate(url_images):
        platform.routes[f"/media/{number}.jpg"] = content(data, "image/jpeg")
    platform.routes["/page"] = content(b"<html><body>hi</body></html>", "text/html")
    urls = [platform.url(f"/media/{n}.jpg") for n in range(3)] + [
        platform.url("/gone.jpg"),
        platform.url("/page"),
    ]
    (tmp_path / "urls.txt").write_text("# seen on the forum\n" + "\n".join(urls) + "\n")
    # One of each source in the bank.
    bank(database, [folder_images[1], zip_images[0], url_images[2]])
    bank_video(database, BANKED_VIDEO)
    out = tmp_path / "results"

    finished = subprocess.run(
        [
            str(RECLAIM),
            "scan",
            str(tmp_path / "device"),
            str(tmp_path / "seized.zip"),
            str(tmp_path / "urls.txt"),
            "--out",
            str(out),
            "--scheduler",
            cluster.address,
            "--batch-size",
            "3",
        ],
        env=environment(tmp_path, database),
        capture_output=True,
        timeout=PATIENCE,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr.decode()
    found = results(out)
    by_origin = Counter(str(r["origin"]) for r in found)
    assert by_origin == {"file": 9, "archive": 1, "member": 8, "url": 5}
    entries = banked_entries(database)
    matched = []
    for record in found:
        if record.get("error") or record["origin"] == "archive":
            continue
        ids = {m["entry"] for m in record["matches"]}
        frames = frames_of(Path(record["source"])) if record["kind"] == "video" else None
        twin = brute_force((record.get("pdq"), record.get("md5")), entries, 31, frames)
        assert ids == twin, record["source"]
        if ids:
            matched.append(Path(record["source"]).name)
    assert len(matched) == 4 and "clip.mp4" in matched
    (clip,) = [r for r in found if r["source"].endswith("clip.mp4")]
    assert [m["by"] for m in clip["matches"]] == ["vpdq"]
    assert clip["matches"][0]["query_percent"] >= 80
    errors = Counter(r["error"]["kind"] for r in found if r.get("error"))
    assert errors == {"unsupported": 2, "archive": 4, "nested_archive": 1, "fetch": 1}
    assert (out / "results.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (out / "results.parquet").exists()
    summary = (out / "summary.html").read_text()
    assert "csam-verified" in summary or "csam" in summary


def test_killing_a_worker_and_the_client_mid_scan_then_resuming_finds_every_file_once(
    tmp_path: Path, cluster: Cluster, platform: LoopbackServer, database: str
) -> None:
    images = photos(10)
    write_folder(tmp_path / "device", images[:4])
    # The platform answers two URLs, then holds every further request until released:
    # the scan is then certainly in the middle, with both workers busy.
    gate = threading.Event()
    held = threading.Semaphore(0)
    served = Counter[str]()
    lock = threading.Lock()

    def gated(data: bytes):  # type: ignore[no-untyped-def]
        def route(handler: Handler) -> None:
            with lock:
                served["all"] += 1
                first = served["all"] <= 2
            if not first:
                held.release()
                gate.wait(PATIENCE)
            send(handler, 200, data, "image/jpeg")

        return route

    for number, data in enumerate(images[4:]):
        platform.routes[f"/media/{number}.jpg"] = gated(data)
    urls = [platform.url(f"/media/{n}.jpg") for n in range(6)]
    (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
    bank(database, images[::3])
    out = tmp_path / "results"
    env = environment(tmp_path, database)
    client = subprocess.Popen(
        [
            str(RECLAIM),
            "scan",
            str(tmp_path / "device"),
            str(tmp_path / "urls.txt"),
            "--out",
            str(out),
            "--scheduler",
            cluster.address,
            "--batch-size",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Both workers are now waiting on the platform.
        assert held.acquire(timeout=PATIENCE)
        assert held.acquire(timeout=PATIENCE)
        cluster.kill(cluster.workers[0])
        cluster.kill(client)  # type: ignore[arg-type]
    finally:
        gate.set()
    cluster.add_worker()
    cluster.wait_for_workers(2)

    resumed = subprocess.run(
        [str(RECLAIM), "scan", "--resume", "--out", str(out), "--scheduler", cluster.address],
        env=env,
        capture_output=True,
        timeout=PATIENCE,
        check=False,
    )

    assert resumed.returncode == 0, resumed.stderr.decode()
    found = results(out)
    keys = Counter(str(r["key"]) for r in found)
    assert len(keys) == 4 + 1 + 6  # four pictures and a text file; six URLs
    assert set(keys.values()) == {1}
    # Nothing was recorded twice in the part files either: no file hashed twice after
    # its result was written.
    written = Counter(
        json.loads(line)["key"]
        for part in (out / "parts").glob("*.jsonl")
        for line in part.read_text().splitlines()
    )
    assert written == keys
    matched = sum(1 for r in found if r.get("matches"))
    assert matched == 4  # images 0, 3, 6, 9


def test_by_default_a_local_cluster_scans_and_matches_become_case_items(
    tmp_path: Path, database: str
) -> None:
    images = photos(4, first_seed=300)
    write_folder(tmp_path / "device", images)
    bank(database, images[:2])
    bank_name = banked_entries(database)[0].bank
    engine = make_engine(database)
    with make_session_factory(engine).begin() as session:
        number = make_case(session).number
    engine.dispose()
    out = tmp_path / "results"
    command = [str(RECLAIM), "scan", str(tmp_path / "device"), "--out", str(out)]

    finished = subprocess.run(
        [*command, "--workers", "1", "--bank-set", bank_name, "--case", number],
        env=environment(tmp_path, database),
        capture_output=True,
        timeout=PATIENCE,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr.decode()
    assert "2 items added to case" in finished.stdout.decode()
    assert sum(1 for r in results(out) if r.get("matches")) == 2
    # The same folder again is refused: a results folder holds one scan.
    again = subprocess.run(
        command, env=environment(tmp_path, database), capture_output=True, check=False
    )
    assert again.returncode == 2
    assert "--resume" in again.stderr.decode()
    unknown = subprocess.run(
        [*command[:-1], str(tmp_path / "other"), "--bank-set", "no-such-bank"],
        env=environment(tmp_path, database),
        capture_output=True,
        check=False,
    )
    assert unknown.returncode == 2
    assert "no such bank: no-such-bank" in unknown.stderr.decode()
