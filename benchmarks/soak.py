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
* health: GET /healthz;
* staff review (``--slow-port``): an analyst opens a case (GET /console/cases/N) and
  fetches its page for review (POST /console/items/N/fetch), the page served by a
  platform on loopback that answers after ``--slow-seconds``; the fetch happens in the
  web process, so this is what slow platforms cost the other endpoints.  The
  deployment must allow fetching from loopback: RECLAIM_FETCH_ALLOWLIST=["127.0.0.1/32"].

And, in this process (``--smtp-port``): a notice queued every ``--notice-every``
seconds (a decided case, its notice and outbox row committed together, then the
delivery job enqueued on the Redis queue as the console does), sent by the workers to
a mail server on loopback at that port (the deployment's RECLAIM_SMTP_PORT, with
RECLAIM_SMTP_SECURITY=none).  After the load stops, ``--drain`` seconds are allowed
for the last notices to arrive.

Prints throughput and p50/p99 per endpoint, errors (expect 0: a 429 counts as an
error, so give the soak, one client, room: RECLAIM_API_BURST /
RECLAIM_API_RATE_PER_SECOND for the partner key, RECLAIM_REPORT_MAX_PER_CLIENT_PER_HOUR
/ RECLAIM_REPORT_MAX_PER_HOUR for the portal), notices queued / delivered / delivered
twice (expect 0) with p50/p99 from commit to the mailbox, each process's resident
memory at the start and end, and acknowledged reports missing from the database at the
end (expect 0).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import secrets
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, soak_staff
sys.path.insert(0, str(Path(__file__).resolve().parent))

import soak_staff
from reclaim.audit.keys import use_settings
from reclaim.cases.models import Case
from reclaim.config import load_settings
from reclaim.jobs.queue import make_huey
from reclaim.jobs.registry import register_tasks
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


def _staff_and_notices(
    args: argparse.Namespace,
    urls: list[str],
    sessions: sessionmaker[Session],
    *,
    record: Recorder,
    stop: threading.Event,
    threads: list[threading.Thread],
) -> tuple[
    soak_staff.SlowPlatform | None,
    tuple[Controller, soak_staff.Mailbox] | None,
    soak_staff.NoticeLoad,
]:
    """The slow platform and its analysts, the mail server and the notice producer
    (as the options ask); their threads are added to ``threads``."""
    settings = load_settings()
    platform = None
    if args.slow_port:
        platform = soak_staff.SlowPlatform(args.slow_port, args.slow_seconds)
        platform.thread.start()
        analyst = soak_staff.prepare_analyst(sessions, settings, platform, args.review_items)
        threads += [
            threading.Thread(target=soak_staff.analyst_load, args=(url, analyst, i, record, stop))
            for i, url in enumerate(urls)
        ]
    mail = None
    notices = soak_staff.NoticeLoad()
    if args.smtp_port:
        mail = soak_staff.mail_server(args.smtp_port)
        deliver = register_tasks(make_huey(settings), settings, sessions).takedown.deliver_notices
        threads.append(
            threading.Thread(
                target=soak_staff.notice_load,
                args=(sessions, settings, deliver),
                kwargs={"every": args.notice_every, "load": notices, "stop": stop},
            )
        )
    return platform, mail, notices


def _report_notices(notices: soak_staff.NoticeLoad, box: soak_staff.Mailbox) -> None:
    arrived = box.arrived
    delays = [arrived[ref][0] - at for ref, at in notices.queued.items() if ref in arrived]
    twice = sum(len(times) > 1 for times in arrived.values())
    print(
        f"notices: {len(notices.queued)} queued, {len(delays)} delivered, "
        f"{len(notices.queued) - len(delays)} not delivered, {twice} delivered twice, "
        f"{len(notices.errors)} errors queuing"
    )
    if delays:
        print(
            f"  commit to mailbox: p50 {percentile(delays, 0.5):.1f} s, "
            f"p99 {percentile(delays, 0.99):.1f} s, max {max(delays):.1f} s"
        )
    for problem in sorted(set(notices.errors))[:5]:
        print(f"  error queuing: {problem}")


def _report_endpoints(record: Recorder, elapsed: float) -> None:
    print(f"{'endpoint':26} {'requests':>9} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name in sorted(record.latencies):
        times = record.latencies[name]
        print(
            f"{name:26} {len(times):9d} {len(times) / elapsed:8.1f} "
            f"{percentile(times, 0.5) * 1000:8.1f} {percentile(times, 0.99) * 1000:8.1f} "
            f"{len(record.errors[name]):7d}"
        )
    for name, problems in sorted(record.errors.items()):
        if problems:
            kinds = ", ".join(f"{k} x{problems.count(k)}" for k in sorted(set(problems)))
            print(f"  errors on {name}: {kinds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", required=True, help="comma-separated web process URLs")
    parser.add_argument("--pids", default="", help="comma-separated pids to watch (RSS)")
    parser.add_argument("--api-key", required=True, help="a partner key with the match scope")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--slow-port", type=int, default=0, help="slow platform port (0: none)")
    parser.add_argument("--slow-seconds", type=float, default=2.0, help="its answer delay")
    parser.add_argument("--review-items", type=int, default=300, help="cases to review")
    parser.add_argument("--smtp-port", type=int, default=0, help="mail server port (0: none)")
    parser.add_argument("--notice-every", type=float, default=5.0, help="seconds per notice")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds for last notices")
    args = parser.parse_args()
    urls = args.urls.split(",")
    pids = [int(p) for p in args.pids.split(",") if p]
    settings = load_settings()
    use_settings(settings)  # this process records audit rows (the cases and notices it makes)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
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
    platform, mail, notices = _staff_and_notices(
        args, urls, sessions, record=record, stop=stop, threads=threads
    )
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
    if mail is not None:
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline and not set(notices.queued) <= set(mail[1].arrived):
            time.sleep(1)

    print(f"soak: {elapsed:.0f} s against {len(urls)} web processes")
    _report_endpoints(record, elapsed)
    if mail is not None:
        mail[0].stop()
        _report_notices(notices, mail[1])
    if platform is not None:
        platform.shutdown()
    for pid in pids:
        before, after = memory_before[pid], memory_after[pid]
        if before is not None and after is not None:
            print(
                f"process {pid}: RSS {before:.0f} MB -> {after:.0f} MB ({after - before:+.0f} MB)"
            )
    with sessions() as session:
        stored = set(session.scalars(select(Case.number)))
    engine.dispose()
    lost = [number for number in record.acknowledged if number not in stored]
    print(f"acknowledged reports: {len(record.acknowledged)}, lost: {len(lost)}")


if __name__ == "__main__":
    main()
