"""Several server processes, one truth: two `reclaim serve` processes on one database
and one Redis enforce one rate limit per key, and a hash banked or withdrawn through
the database is seen by the next match request to either process.

Redis database 13 with a key prefix unique to the run (this machine's Redis has the
usual 16 databases; the suite's own Redis test keeps 15).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from sqlalchemy.orm import Session

from reclaim.banks.banking import get_bank, withdraw_signals
from reclaim.domain.signals import Signal
from reclaim.migrations import upgrade
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.web.api.rate_limit import RedisTokenBuckets, TokenBuckets
from tests.support.settings import (
    TEST_AUDIT_KEY,
    TEST_QUARANTINE_KEY,
    TEST_SIGNING_KEY,
    require_or_skip,
)
from tests.web.api.conftest import PartnerKey, add_partner, bank

# The suite's Redis server (RECLAIM_TEST_REDIS_URL, whose database 15 the queue test
# uses), database 13 here; keys carry a prefix unique to the run and are removed after.
REDIS_URL = (
    urlsplit(os.environ.get("RECLAIM_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15")
    ._replace(path="/13")
    .geturl()
)
BURST = 5
MATCH = "/api/v1/match"


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_or_skip(f"Redis at {REDIS_URL} is unusable: {exc}")
    return client


@pytest.fixture
def prefix() -> Iterator[str]:
    client = redis_or_skip()
    name = f"reclaim-test-{os.getpid()}-{secrets.token_hex(4)}"
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


def test_redis_buckets_are_one_limit_for_every_holder(prefix: str) -> None:
    # Two bucket objects stand for two processes: in memory each allows the burst...
    local = [TokenBuckets(0.01, BURST), TokenBuckets(0.01, BURST)]
    assert sum(local[i % 2].take(7) == 0 for i in range(4 * BURST)) == 2 * BURST
    # ...in Redis they share one.
    shared = [RedisTokenBuckets(REDIS_URL, 0.01, BURST, prefix=prefix) for _ in range(2)]
    answers = [shared[i % 2].take(7) for i in range(4 * BURST)]
    assert sum(wait == 0 for wait in answers) == BURST
    assert all(wait > 0 for wait in answers[BURST:])
    assert shared[0].take(8) == 0  # another key has its own bucket


def test_a_key_gets_no_more_than_its_burst_when_redis_is_down() -> None:
    unreachable = RedisTokenBuckets("redis://127.0.0.1:1/0", 0.01, BURST)
    assert sum(unreachable.take(1) == 0 for _ in range(2 * BURST)) == BURST


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: BinaryIO


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(env: dict[str, str], log: Path) -> Served:
    port = _free_port()
    command = [sys.executable, "-c", "from reclaim.cli import main; main()", "serve"]
    output = log.open("wb")
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    return Served(f"http://127.0.0.1:{port}", process, output)


def _wait_until_up(served: Served, log: Path) -> None:
    deadline = time.monotonic() + 120  # a loaded 2-core machine imports slowly
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"reclaim serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"reclaim serve did not start: {log.read_text()[-2000:]}")


@pytest.fixture
def two_servers(
    tmp_path: Path, database_url: str, prefix: str
) -> Iterator[tuple[list[Served], PartnerKey, PartnerKey]]:
    engine = make_engine(database_url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        limited = add_partner(session)
        # Another key (its own bucket of BURST requests) for the freshness checks.
        other = add_partner(session)
        bank(session, [Signal.parse("md5", secrets.token_hex(16))])
    engine.dispose()
    env = {
        **os.environ,
        "RECLAIM_ENVIRONMENT": "test",
        "RECLAIM_SECRET_KEY": secrets.token_urlsafe(32),
        "RECLAIM_DATABASE_URL": database_url,
        "RECLAIM_DATA_DIR": str(tmp_path / "data"),
        "RECLAIM_QUARANTINE_KEYS": json.dumps({"k1": TEST_QUARANTINE_KEY}),
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID": "k1",
        "RECLAIM_SIGNING_KEYS": json.dumps({"s1": TEST_SIGNING_KEY}),
        "RECLAIM_SIGNING_CURRENT_KEY_ID": "s1",
        "RECLAIM_AUDIT_KEYS": json.dumps({"a1": TEST_AUDIT_KEY}),
        "RECLAIM_AUDIT_CURRENT_KEY_ID": "a1",
        "RECLAIM_REDIS_URL": REDIS_URL,
        "RECLAIM_REDIS_KEY_PREFIX": prefix,
        "RECLAIM_RUN_WORKER_IN_PROCESS": "false",
        "RECLAIM_API_BURST": str(BURST),
        "RECLAIM_API_RATE_PER_SECOND": "0.01",
        "RECLAIM_API_KEY_CACHE_SECONDS": "0",
        "RECLAIM_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    logs = [tmp_path / "serve-a.log", tmp_path / "serve-b.log"]
    servers = [_serve(env, log) for log in logs]
    try:
        for served, log in zip(servers, logs, strict=True):
            _wait_until_up(served, log)
        yield servers, limited, other
    finally:
        for served in servers:
            served.process.terminate()
        for served in servers:
            served.process.wait(timeout=30)
            served.log.close()


def _match(served: Served, key: PartnerKey, value: str) -> httpx.Response:
    response = httpx.post(
        f"{served.url}{MATCH}",
        headers=key.headers,
        json={"signals": [{"signal_type": "md5", "value": value}]},
        timeout=10,
    )
    assert response.status_code in (200, 429), response.text
    return response


def test_two_serve_processes_enforce_one_limit_and_see_bank_changes_at_once(
    two_servers: tuple[list[Served], PartnerKey, PartnerKey], database_url: str
) -> None:
    servers, limited, other = two_servers
    statuses = [_match(servers[i % 2], limited, "0" * 32).status_code for i in range(4 * BURST)]
    assert statuses.count(200) == BURST, statuses
    assert set(statuses[BURST:]) == {429}

    # Bank changes reach both processes' match engines on their next request.
    value = secrets.token_hex(16)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        # Both engines are loaded and in step before the change (the limited key's
        # requests loaded them); then each change is seen by the very next request.
        with sessions() as session:
            bank(session, [Signal.parse("md5", value)])
        for served in servers:
            assert len(_match(served, other, value).json()["results"][0]["matches"]) == 1
        with sessions() as session:
            _withdraw(session, value)
        for served in servers:
            assert _match(served, other, value).json()["results"][0]["matches"] == []
    finally:
        engine.dispose()


def _withdraw(session: Session, value: str) -> None:
    withdraw_signals(session, get_bank(session, "csam"), [Signal.parse("md5", value)])
    session.commit()
