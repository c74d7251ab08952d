"""Periodic jobs with several workers: each run once per tick, never two at a time.

Huey's scheduler runs inside every consumer: with Redis and two ``reclaim worker``
processes, both wake each minute and both enqueue every periodic job that is due, so
each would run twice per tick.  Two guards, both in Redis (the queue's own server),
make the workers agree without electing anyone:

* **once per tick** — before enqueueing a due periodic job, a scheduler claims
  ``<queue>.tick.<job>.<minute>`` with ``SET NX EX``; only the first claim of that
  minute enqueues it.  Any live worker schedules: stopping one (or all but one) never
  stops the periodic jobs, and nothing needs configuring per worker.  (The alternative,
  one designated scheduling worker, makes that worker a single point of failure and
  every other worker a configuration mistake waiting to happen.)
* **never two at a time** — a run holds a lease ``<queue>.lease.<job>`` (a Redis lock
  with a 60-second expiry that a heartbeat renews while the job runs).  A run that
  finds the lease taken (the previous tick's run still going, or a job also enqueued
  on demand, such as the notice delivery after a send) is skipped: the running one, or
  the next tick, does the work.  A worker killed mid-run frees the lease within 60 s.

Each job is also safe to run twice on its own (the outbox claims each delivery under a
row lock, reminders are queued under row locks, checkpoints and re-encryption skip
what is done): the guards keep the work and the mail to once per tick, the data layer
keeps a duplicate from doing harm if a guard ever fails (Redis restarted mid-tick).

With the SQLite queue (one process: the embedded default) only the second guard
applies, as a lock in the process.  Runs are counted in Redis
(``<queue>.runs.<job>``, and the last start per job): :func:`periodic_runs`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import PeriodicTask, Task

log = logging.getLogger(__name__)

#: A claimed tick is remembered this long (well past any clock skew between workers).
TICK_SECONDS = 3600
#: A run's lease; renewed every third of it while the job runs.
LEASE_SECONDS = 60


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class _Lease:
    """A Redis lock renewed by a heartbeat thread until released."""

    def __init__(self, conn: Any, key: str) -> None:
        self._lock = conn.lock(key, timeout=LEASE_SECONDS, blocking=False, thread_local=False)
        self._done = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self._lock.acquire(blocking=False):
            return False
        self._beat = threading.Thread(target=self._renew, daemon=True, name="lease-heartbeat")
        self._beat.start()
        return True

    def _renew(self) -> None:
        while not self._done.wait(LEASE_SECONDS / 3):
            try:
                self._lock.reacquire()
            except Exception:  # lost (Redis restarted): the data layer still guards
                log.warning("lease %s lost while running", self._lock.name)
                return

    def release(self) -> None:
        self._done.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        try:
            self._lock.release()
        except Exception:  # expired meanwhile: nothing to release
            log.warning("lease %s had expired before the run ended", self._lock.name)


class ReclaimRedisHuey(RedisHuey):  # type: ignore[misc]
    """The Redis queue, with periodic jobs once per tick and one run at a time."""

    def _conn(self) -> Any:
        # Immediate mode (tests) swaps in memory storage, which has no connection.
        return getattr(self.storage, "conn", None)

    def read_periodic(self, timestamp: datetime | None) -> list[Task]:
        when = timestamp or self._get_timestamp()
        due: list[Task] = super().read_periodic(when)
        conn = self._conn()
        if conn is None:
            return due
        tick = when.strftime("%Y-%m-%dT%H:%M")
        claimed = []
        for task in due:
            key = f"{self.name}.tick.{task.name}.{tick}"
            if conn.set(key, holder(), nx=True, ex=TICK_SECONDS):
                log.info("periodic %s for %s: claimed here", task.name, tick)
                claimed.append(task)
            else:
                log.info("periodic %s for %s: already claimed by another worker", task.name, tick)
        return claimed

    def flush(self) -> None:
        """Empty the queue, and forget claimed ticks, leases and run counts."""
        super().flush()
        conn = self._conn()
        if conn is not None:
            for pattern in ("tick.*", "lease.*", "runs.*", "periodic.last"):
                for key in conn.scan_iter(match=f"{self.name}.{pattern}"):
                    conn.delete(key)

    def _execute(self, task: Task, timestamp: datetime) -> Any:
        conn = self._conn()
        if not isinstance(task, PeriodicTask) or conn is None:
            return super()._execute(task, timestamp)
        lease = _Lease(conn, f"{self.name}.lease.{task.name}")
        if not lease.acquire():
            log.info("periodic %s skipped: another run of it is in progress", task.name)
            return None
        try:
            conn.incr(f"{self.name}.runs.{task.name}")
            started = {"at": time.time(), "by": holder()}
            conn.hset(f"{self.name}.periodic.last", task.name, json.dumps(started))
            return super()._execute(task, timestamp)
        finally:
            lease.release()


class ReclaimSqliteHuey(SqliteHuey):  # type: ignore[misc]
    """The SQLite queue (one process): one run of each periodic job at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _execute(self, task: Task, timestamp: datetime) -> Any:
        if not isinstance(task, PeriodicTask):
            return super()._execute(task, timestamp)
        with self._guard:
            lock = self._running.setdefault(task.name, threading.Lock())
        if not lock.acquire(blocking=False):
            log.info("periodic %s skipped: another run of it is in progress", task.name)
            return None
        try:
            return super()._execute(task, timestamp)
        finally:
            lock.release()


def periodic_runs(huey: RedisHuey) -> dict[str, int]:
    """How many times each periodic job has started, across every worker (Redis only)."""
    conn = huey.storage.conn
    prefix = f"{huey.name}.runs."
    return {
        key.decode()[len(prefix) :]: int(conn.get(key) or 0)
        for key in conn.scan_iter(match=f"{prefix}*")
    }
