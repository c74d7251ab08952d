"""Bank import throughput: a file of N PDQ lines imported twice (the second adds nothing).

    .venv/bin/python benchmarks/bank_import.py                 # 1,000,000 lines, SQLite
    .venv/bin/python benchmarks/bank_import.py --lines 100000 --database-url postgresql://...

Prints lines per second for the first import, the idempotent re-import, and the
match engine's first sync of the imported bank (the server's start-up cost without a
saved index) against a plain PdqIndex.build of the same hashes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from reclaim import audit
from reclaim.banks.banking import create_bank
from reclaim.banks.engine import MatchEngine
from reclaim.banks.formats import BankFormat
from reclaim.banks.importing import import_file
from reclaim.matching import PdqIndex
from reclaim.migrations import upgrade
from reclaim.storage.db import make_engine, make_session_factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            create_bank(session, "bench", "", actor=audit.SYSTEM)
        rng = np.random.default_rng(7)
        hashes = rng.integers(0, 256, (args.lines, 32), dtype=np.uint8)
        path = Path(scratch) / "bank.txt"
        with path.open("w") as out:
            for row in hashes:
                out.write(f"pdq {row.tobytes().hex()}\n")
        print(f"{args.lines:,} lines on {engine.dialect.name}")
        for label in ("first import", "re-import (idempotent)"):
            started = time.perf_counter()
            report = import_file(
                sessions,
                bank_name="bench",
                path=path,
                file_format=BankFormat.LOCAL_FILE,
                strict=False,
                min_pdq_quality=50,
                actor=audit.SYSTEM,
            )
            elapsed = time.perf_counter() - started
            print(
                f"{label:<24} {elapsed:8.1f} s {args.lines / elapsed:12,.0f} lines/s "
                f"added {report.outcome.added:,} unchanged {report.outcome.unchanged:,}"
            )
        started = time.perf_counter()
        with sessions() as session:
            matcher = MatchEngine()
            matcher.sync(session)
        sync = time.perf_counter() - started
        started = time.perf_counter()
        PdqIndex.build(np.arange(args.lines, dtype=np.int64), hashes)
        build = time.perf_counter() - started
        print(f"{'engine sync from DB':<24} {sync:8.1f} s   (PdqIndex.build alone: {build:.1f} s)")
        engine.dispose()


if __name__ == "__main__":
    main()
