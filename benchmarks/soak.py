"""Soak: the portal and the partner API together, for a while, against running processes.

Runs against a deployment like docs/deployment.md (PostgreSQL + Redis, several
``reclaim serve`` and ``reclaim worker`` processes), started beforehand from one
settings file::

    RECLAIM_SETTINGS_FILE=/etc/reclaim/reclaim.env .venv/bin/python benchmarks/soak.py \\
        --urls http://127.0.0.1:8001,http://127.0.0.1:8002 \\
        --pids 1234,1235,1236,1237 --api-key rcl_... --duration 600

Load, spread over the web processes, one thread each:

* portal: hash-only reports through the real form (GET /report for the CSRF token and
  idempotency key, POST /report), the case number read from the answer: an
  *acknowledged* report;
* partner API: POST /api/v1/match with 1 signal and with 100 signals;
* health: GET /healthz.

Not included yet (issue 18 left them out for time): staff review fetches of slow pages
and notice delivery through the workers.

Prints throughput and p50/p99 per endpoint, errors (expect 0: a 429 from the partner
API's rate limit counts as an error, so give the key room with RECLAIM_API_BURST /
RECLAIM_API_RATE_PER_SECOND), each process's resident memory at the start and end, and
acknowledged reports missing from the database at the end (expect 0).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from reclaim.cases.models import Case
from reclaim.config import load_settings
from reclaim.storage.db import make_engine, make_session_factory

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
_NUMBER = re.compile(r"data-case-number>(RC-[0-9A-Z]{4}-[0-9A-Z]{4})<")


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.acknowledged: list[str] = []
        self.lock = threading.Lock()

    def timed(self, name: str, call: Callable[[], httpx.Response], ok: int = 200) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = call()
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors[name].append(type(exc).__name__)
            raise
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[name].append(elapsed)
            if response.status_code != ok:
                self.errors[name].append(str(response.status_code))
        return response


def _signal() -> dict[str, str]:
    return {"signal_type": "pdq", "value": secrets.token_hex(32)}


def portal(url: str, record: Recorder, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            try:
                page = record.timed("portal GET /report", lambda: client.get("/report")).text
                csrf, key = _CSRF.search(page), _KEY.search(page)
                if not csrf or not key:
                    record.errors["portal GET /report"].append("no form")
                    continue
                md5, sha, pdq = secrets.token_hex(16), secrets.token_hex(32), secrets.token_hex(32)
                form = {
                    "csrf_token": csrf.group(1),
                    "idempotency_key": key.group(1),
                    "reporter_role": "self",
                    "age_group": "under_18",
                    "situation": "online",
                    "urls": "https://forum.example.net/t/1",
                    "file": [f"image:{md5}:{sha}:{pdq}:87"],
                    "description": "soak",
                    "contact": "",
                }
                answer = record.timed(
                    "portal POST /report", lambda form=form: client.post("/report", data=form)
                )
                number = _NUMBER.search(answer.text)
                if number:
                    with record.lock:
                        record.acknowledged.append(number.group(1))
            except httpx.HTTPError:
                time.sleep(0.1)


def partner(url: str, key: str, batch: int, record: Recorder, stop: threading.Event) -> None:
    name = f"api match x{batch}"
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        while not stop.is_set():
            body = {"signals": [_signal() for _ in range(batch)]}
            try:
                record.timed(name, lambda body=body: client.post("/api/v1/match", json=body))
            except httpx.HTTPError:
                time.sleep(0.1)


def health(url: str, record: Recorder, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):  # counted by the recorder
                record.timed("healthz", lambda: client.get("/healthz"))
            stop.wait(0.5)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", required=True, help="comma-separated web process URLs")
    parser.add_argument("--pids", default="", help="comma-separated pids to watch (RSS)")
    parser.add_argument("--api-key", required=True, help="a partner key with the match scope")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    args = parser.parse_args()
    urls = args.urls.split(",")
    pids = [int(p) for p in args.pids.split(",") if p]
    record = Recorder()
    stop = threading.Event()
    threads = []
    for url in urls:
        threads += [
            threading.Thread(target=portal, args=(url, record, stop)),
            threading.Thread(target=partner, args=(url, args.api_key, 1, record, stop)),
            threading.Thread(target=partner, args=(url, args.api_key, 100, record, stop)),
            threading.Thread(target=health, args=(url, record, stop)),
        ]
    memory_before = {pid: rss_mb(pid) for pid in pids}
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(args.duration)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    memory_after = {pid: rss_mb(pid) for pid in pids}

    print(f"soak: {elapsed:.0f} s against {len(urls)} web processes")
    print(f"{'endpoint':24} {'requests':>9} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name in sorted(record.latencies):
        times = record.latencies[name]
        print(
            f"{name:24} {len(times):9d} {len(times) / elapsed:8.1f} "
            f"{percentile(times, 0.5) * 1000:8.1f} {percentile(times, 0.99) * 1000:8.1f} "
            f"{len(record.errors[name]):7d}"
        )
    for name, problems in sorted(record.errors.items()):
        if problems:
            kinds = ", ".join(f"{k} x{problems.count(k)}" for k in sorted(set(problems)))
            print(f"  errors on {name}: {kinds}")
    for pid in pids:
        before, after = memory_before[pid], memory_after[pid]
        if before is not None and after is not None:
            print(
                f"process {pid}: RSS {before:.0f} MB -> {after:.0f} MB ({after - before:+.0f} MB)"
            )
    settings = load_settings()
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        stored = set(session.scalars(select(Case.number)))
    engine.dispose()
    lost = [number for number in record.acknowledged if number not in stored]
    print(f"acknowledged reports: {len(record.acknowledged)}, lost: {len(lost)}")


if __name__ == "__main__":
    main()
