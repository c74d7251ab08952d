"""Partner match API throughput: ``POST /api/v1/match`` against a 1M-hash bank.

    .venv/bin/python benchmarks/api_match.py                  # 1,000,000 PDQ hashes
    .venv/bin/python benchmarks/api_match.py --size 200000 --seconds 5 --no-peer

1. Builds a SQLite database with one bank of N random PDQ hashes (bulk inserts, in
   seconds) and the match engine's saved index, plus a partner and an API key.
2. Starts the server as an operator would: ``reclaim serve`` (uvicorn, one process,
   loopback) with production settings (``RECLAIM_ENVIRONMENT=production``, real
   secrets, ``RECLAIM_LOG_LEVEL=WARNING``).  Only the key's rate limit is raised, so
   the benchmark measures the server rather than the limiter.
3. Drives it from a separate client process (asyncio, raw HTTP/1.1 keep-alive
   connections: the cheapest client Python has, so that the client steals as little
   of the 2 cores as possible) at batch sizes 1 and 100, and reports requests/s,
   hashes/s and p50/p99 latency.
4. Peer: the same requests against python-threatexchange's ``PDQIndex`` (what HMA
   matches with) behind a minimal FastAPI endpoint in the same kind of uvicorn
   process, built from the same hashes (``--no-peer`` skips it).

Queries: half are bank members with 0-15 random bits flipped (each must match),
half are random hashes (almost never match), shuffled.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from reclaim.audit.domain import ActorKind

REPO = Path(__file__).resolve().parents[1]
BATCHES = (1, 100)
#: The audit trail's key, for the rows building the database writes and for the server
#: (production settings refuse the development key).
AUDIT_KEY = base64.b64encode(secrets.token_bytes(32)).decode()


# --- building the bank -------------------------------------------------------------


def build_database(directory: Path, hashes: np.ndarray) -> tuple[str, str]:
    """A migrated SQLite database with the bank, the saved index and a partner key."""
    from sqlalchemy import insert

    from reclaim import audit
    from reclaim.audit.keys import AuditKeyring, use_keyring
    from reclaim.banks.banking import create_bank
    from reclaim.banks.engine import MatchEngine
    from reclaim.banks.models import BankEntry
    from reclaim.banks.models import Signal as SignalRow
    from reclaim.matching import PdqIndex
    from reclaim.migrations import upgrade
    from reclaim.partners.domain import Scope
    from reclaim.partners.keys import create_key, create_partner
    from reclaim.platforms.directory import PlatformRecord, import_records
    from reclaim.storage import counters
    from reclaim.storage.db import make_engine, make_session_factory
    from reclaim.storage.models import Counter

    use_keyring(AuditKeyring.from_base64("a1", {"a1": AUDIT_KEY}))
    url = f"sqlite:///{directory / 'bench.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    actor = audit.Actor(ActorKind.OPERATOR)
    started = time.perf_counter()
    with sessions.begin() as session:
        bank = create_bank(session, "bench", "random PDQ hashes", actor=actor)
        import_records(session, [PlatformRecord("Bench", ("bench.example",))], actor=actor)
        partner = create_partner(session, "Bench T&S", "Bench", actor=actor)
        key = create_key(session, partner, [Scope.MATCH], actor=actor).plaintext
        bank_id = bank.id
    now = datetime.now(UTC)
    values = [row.tobytes().hex() for row in hashes]
    with engine.begin() as connection:
        for start in range(0, len(values), 50_000):
            part = values[start : start + 50_000]
            ids = range(start + 1, start + len(part) + 1)
            connection.execute(
                insert(SignalRow),
                [
                    {"id": i, "type": "pdq", "value": v, "created_at": now}
                    for i, v in zip(ids, part, strict=True)
                ],
            )
            connection.execute(
                insert(BankEntry),
                [
                    {
                        "id": i,
                        "bank_id": bank_id,
                        "signal_id": i,
                        "quality": 100,
                        "verified": True,
                        "source": "import",
                        "source_ref": "benchmark",
                        "added_at": now,
                        "change_seq": i,
                    }
                    for i in ids
                ],
            )
        connection.execute(insert(Counter).values(name=counters.BANK_FEED, value=len(values)))
    print(f"bank of {len(values):,} PDQ hashes in SQLite: {time.perf_counter() - started:.1f} s")
    # The saved index the server loads (memory-mapped) at its first match, as after a
    # restart; building it is PdqIndex.build, which the matching benchmark measures.
    started = time.perf_counter()
    matcher = MatchEngine()
    matcher._pdq = PdqIndex.build(np.arange(1, len(values) + 1, dtype=np.int64), hashes)
    matcher._position = len(values)
    matcher.save(directory / "data" / "index")
    print(f"match index built and saved: {time.perf_counter() - started:.1f} s")
    engine.dispose()
    return url, key


def make_queries(hashes: np.ndarray, count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    members = hashes[rng.integers(0, len(hashes), count // 2)].copy()
    for row in members:
        for bit in rng.choice(256, size=int(rng.integers(0, 16)), replace=False):
            row[bit // 8] ^= 1 << (bit % 8)
    randoms = rng.integers(0, 256, (count - len(members), 32), dtype=np.uint8)
    queries = np.concatenate([members, randoms])
    rng.shuffle(queries)
    return [row.tobytes().hex() for row in queries]


# --- servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_reclaim(directory: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RECLAIM_ENVIRONMENT": "production",
        "RECLAIM_SECRET_KEY": secrets.token_urlsafe(48),
        "RECLAIM_QUARANTINE_KEYS": json.dumps(
            {"k1": base64.b64encode(secrets.token_bytes(32)).decode()}
        ),
        "RECLAIM_QUARANTINE_CURRENT_KEY_ID": "k1",
        "RECLAIM_SIGNING_KEYS": json.dumps(
            {"s1": base64.b64encode(secrets.token_bytes(32)).decode()}
        ),
        "RECLAIM_SIGNING_CURRENT_KEY_ID": "s1",
        "RECLAIM_AUDIT_KEYS": json.dumps({"a1": AUDIT_KEY}),
        "RECLAIM_AUDIT_CURRENT_KEY_ID": "a1",
        "RECLAIM_DATABASE_URL": url,
        "RECLAIM_DATA_DIR": str(directory / "data"),
        "RECLAIM_LOG_LEVEL": "WARNING",
        "RECLAIM_API_RATE_PER_SECOND": "1000000",
        "RECLAIM_API_BURST": "1000000",
    }
    command = [str(Path(sys.executable).with_name("reclaim")), "serve", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


PEER_SERVER = """
import sys, warnings
warnings.simplefilter("ignore")
import numpy as np, uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from threatexchange.signal_type.pdq.signal import PdqSignal

hashes = np.load(sys.argv[1])
index = PdqSignal.get_index_cls().build(
    (row.tobytes().hex(), i) for i, row in enumerate(hashes, start=1)
)
app = FastAPI()

@app.post("/api/v1/match")
async def match(request: Request) -> JSONResponse:
    body = await request.json()
    results = []
    for n, signal in enumerate(body["signals"]):
        found = index.query(signal["value"])
        results.append({"index": n, "matches": [
            {"entry_id": m.metadata, "distance": m.similarity_info.distance} for m in found
        ]})
    return JSONResponse({"results": results})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def start_peer(directory: Path, hashes: np.ndarray, port: int) -> subprocess.Popen[bytes]:
    np.save(directory / "hashes.npy", hashes)
    script = directory / "peer_server.py"
    script.write_text(PEER_SERVER)
    return subprocess.Popen(
        [sys.executable, str(script), str(directory / "hashes.npy"), str(port)],
        stdout=subprocess.DEVNULL,
    )


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited ({process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not start")


# --- the client (a separate process) ------------------------------------------------


async def _one_connection(
    port: int,
    bodies: list[bytes],
    key: str,
    *,
    until: float,
    latencies: list[float],
    offset: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /api/v1/match HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
    )
    n = offset
    while time.perf_counter() < until:
        body = bodies[n % len(bodies)]
        n += 1
        request = f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        started = time.perf_counter()
        writer.write(request)
        status_line = await reader.readline()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        if b" 200 " not in status_line:
            raise RuntimeError(f"{status_line!r}: {payload[:300]!r}")
    writer.close()


async def _drive(
    port: int, bodies: list[bytes], key: str, seconds: float, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(
            _one_connection(port, bodies, key, until=until, latencies=latencies, offset=i * 997)
            for i in range(concurrency)
        )
    )
    return latencies


def client_main(arguments: list[str]) -> None:
    """``--client``: read the plan as JSON from stdin, print the results as JSON."""
    plan = json.loads(sys.stdin.read())
    queries: list[str] = plan["queries"]
    batch: int = plan["batch"]
    bodies = [
        json.dumps(
            {"signals": [{"signal_type": "pdq", "value": q} for q in queries[i : i + batch]]}
        ).encode()
        for i in range(0, len(queries) - batch + 1, batch)
    ]
    asyncio.run(_drive(plan["port"], bodies, plan["key"], plan["warmup"], plan["concurrency"]))
    started = time.perf_counter()
    latencies = asyncio.run(
        _drive(plan["port"], bodies, plan["key"], plan["seconds"], plan["concurrency"])
    )
    elapsed = time.perf_counter() - started
    print(json.dumps({"latencies": latencies, "elapsed": elapsed}))


def measure(
    port: int, key: str, queries: list[str], batch: int, args: argparse.Namespace
) -> dict[str, float]:
    concurrency = args.concurrency_single if batch == 1 else args.concurrency_batch
    plan = {
        "port": port,
        "key": key,
        "queries": queries,
        "batch": batch,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "concurrency": concurrency,
    }
    done = subprocess.run(
        [sys.executable, __file__, "--client"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    latencies = sorted(result["latencies"])
    requests = len(latencies)
    return {
        "batch": batch,
        "concurrency": concurrency,
        "requests_per_s": requests / result["elapsed"],
        "hashes_per_s": requests * batch / result["elapsed"],
        "p50_ms": float(np.median(latencies)) * 1000,
        "p99_ms": latencies[min(requests - 1, int(requests * 0.99))] * 1000,
    }


# --- main ---------------------------------------------------------------------------


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        client_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured, per run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency-single", type=int, default=8)
    parser.add_argument("--concurrency-batch", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    hashes = rng.integers(0, 256, (args.size, 32), dtype=np.uint8)
    queries = make_queries(hashes, 20_000, args.seed + 1)
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        url, key = build_database(directory, hashes)
        servers = [("reclaim", lambda port: start_reclaim(directory, url, port))]
        if not args.no_peer:
            servers.append(("threatexchange", lambda port: start_peer(directory, hashes, port)))
        for name, start in servers:
            port = free_port()
            started = time.perf_counter()
            process = start(port)
            try:
                wait_ready(port, process)
                print(f"{name}: server ready in {time.perf_counter() - started:.1f} s")
                results[name] = [measure(port, key, queries, b, args) for b in BATCHES]
            finally:
                process.terminate()
                process.wait(timeout=60)
    print()
    print(f"POST /api/v1/match, {args.size:,}-hash bank, {os.cpu_count()} cores, loopback")
    header = f"{'server':<16}{'batch':>6}{'conc':>6}{'req/s':>10}{'hashes/s':>11}"
    print(header + f"{'p50 ms':>9}{'p99 ms':>9}")
    print("-" * (len(header) + 18))
    for name, rows in results.items():
        for row in rows:
            print(
                f"{name:<16}{row['batch']:>6.0f}{row['concurrency']:>6.0f}"
                f"{row['requests_per_s']:>10,.0f}{row['hashes_per_s']:>11,.0f}"
                f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            )
    if "threatexchange" in results:
        print()
        for ours, theirs in zip(results["reclaim"], results["threatexchange"], strict=True):
            ratio = ours["hashes_per_s"] / theirs["hashes_per_s"]
            print(
                f"batch {ours['batch']:.0f}: Reclaim {ratio:.1f}x python-threatexchange's hashes/s"
            )
    print()
    print("targets: batch 100 >= 10,000 hashes/s with p99 <= 50 ms; batch 1 >= 1,000 req/s")


if __name__ == "__main__":
    main()
