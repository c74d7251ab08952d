"""Linkage at hotline scale: linking a new case, searching by identifier and by PDQ.

    .venv/bin/python benchmarks/linkage.py                        # 100k cases, SQLite
    .venv/bin/python benchmarks/linkage.py --backend postgresql \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/linkage.py --scale 0.1            # a tenth of the size

1. Builds a migrated database (a scratch SQLite file, or a scratch PostgreSQL database
   dropped afterwards) with N cases (default 100,000), 3 offender identifiers per case
   (300,000 case-identifier rows over 200,000 distinct identifiers, drawn uniformly:
   most named once, some by several cases), 1,000,000 media hashes (333,334 pictures
   hashed on devices, each with MD5, SHA-256 and PDQ), 50,000 reported pages and
   1,000 threat messages, with bulk inserts.  Identifier values are encrypted and
   hashed exactly as the application does.
2. Loads linkage's PDQ index from the signals table (timed once, reported apart: a
   server does it at start-up).
3. Times ``linking.link_case`` for new cases that name an existing handle and a new
   phone number, carry a picture 6 bits from an existing one and an existing page
   (each links to several cases); then ``search.search`` by identifier (an existing
   handle, written with a full-width @) and by PDQ (a hash 8 bits from an existing
   one, distance 31).  Each figure is the median (and the worst) of the repetitions.

Target: under 200 ms each at full size (issue 14).  Random data with a fixed seed.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from reclaim.audit.keys import AuditKeyring, bind_keyring
from reclaim.banks.models import Signal as SignalRow
from reclaim.cases.domain import AgeGroup, ItemKind, MediaKind, MediaOrigin, ReporterRole, Situation
from reclaim.cases.models import Case, Item, Media, MediaSignal, Page, Report
from reclaim.domain.signals import SignalType
from reclaim.linkage import identifiers, linking, scripts, search
from reclaim.linkage.domain import Identifier, IdentifierKind, IdentifierSource
from reclaim.linkage.identifiers import Keys
from reclaim.linkage.media_index import MediaPdqIndex
from reclaim.linkage.models import CaseIdentifier, OffenderIdentifier, ThreatBand
from reclaim.migrations import upgrade
from reclaim.security.field_crypto import FieldCipher, Purpose
from reclaim.security.lookup_hashes import LookupHasher
from reclaim.storage.db import make_engine, make_session_factory

CHUNK = 20_000
SEQUENCED = ("cases", "reports", "items", "media", "signals", "pages", "offender_identifiers")
T0 = datetime(2026, 11, 1, tzinfo=UTC)
THREAT = "I have your photos. Send {n} NTD to my account by tonight or everyone at {s} sees them."


def chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk(session: Session, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for batch in chunks(rows):
        session.execute(insert(table), batch)
        count += len(batch)
    return count


def flip(value: bytes, bits: int, rng: random.Random) -> bytes:
    number = int.from_bytes(value, "big")
    for bit in rng.sample(range(256), bits):
        number ^= 1 << bit
    return number.to_bytes(32, "big")


class Data:
    """What the build made, for the queries to aim at."""

    def __init__(self) -> None:
        self.handles: list[str] = []
        self.pdqs: list[bytes] = []
        self.page_urls: list[str] = []


def build(engine: Engine, keys: Keys, args: argparse.Namespace) -> Data:
    rng = random.Random(args.seed)
    n_cases = int(100_000 * args.scale)
    n_identifiers = int(200_000 * args.scale)
    n_links = int(300_000 * args.scale)
    n_media = int(1_000_000 * args.scale) // 3 + 1
    n_pages = int(50_000 * args.scale)
    data = Data()
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    with sessions.begin() as session:
        bulk(
            session,
            Case.__table__,
            (
                {
                    "id": i,
                    "number": f"RC-B{i:07d}",
                    "pin_hash": "x",
                    "status": "new",
                    "urgent": False,
                    "created_at": T0 + timedelta(minutes=i % 40_000),
                    "updated_at": T0,
                }
                for i in range(1, n_cases + 1)
            ),
        )
        bulk(
            session,
            Report.__table__,
            (
                {
                    "id": i,
                    "case_id": i,
                    "idempotency_key": f"k{i}",
                    "reporter_role": ReporterRole.SELF.value,
                    "age_group": AgeGroup.UNDER_18.value,
                    "situation": Situation.THREAT.value,
                    "description": None,
                    "contact_consent": False,
                    "language": "zh_TW",
                    "created_at": T0,
                }
                for i in range(1, n_cases + 1)
            ),
        )
        print(f"  cases and reports: {n_cases:,} ({time.perf_counter() - started:.0f} s)")
        data.handles = [f"user_{i:06d}_{secrets.token_hex(2)}" for i in range(n_identifiers)]
        identifier_rows = []
        for i, handle in enumerate(data.handles, start=1):
            ident = Identifier(IdentifierKind.HANDLE, handle, "instagram")
            identifier_rows.append(
                {
                    "id": i,
                    "kind": "handle",
                    "lookup": keys.lookup(ident),
                    "value": keys.cipher.encrypt(handle, purpose=Purpose.OFFENDER_IDENTIFIER),
                    "platform": "instagram",
                    "created_at": T0,
                }
            )
        bulk(session, OffenderIdentifier.__table__, iter(identifier_rows))
        del identifier_rows
        pairs = set()
        while len(pairs) < n_links:
            pairs.add((rng.randrange(1, n_cases + 1), rng.randrange(1, n_identifiers + 1)))
        bulk(
            session,
            CaseIdentifier.__table__,
            (
                {
                    "case_id": c,
                    "identifier_id": i,
                    "source": IdentifierSource.ANALYST.value,
                    "created_at": T0,
                }
                for c, i in sorted(pairs)
            ),
        )
        threats = min(1_000, n_cases)
        for t in range(threats):
            body = THREAT.format(n=rng.randrange(1, 99) * 1000, s=f"school number {t}")
            ident = Identifier(IdentifierKind.THREAT_TEXT, body)
            row_id = n_identifiers + 1 + t
            session.execute(
                insert(OffenderIdentifier),
                [
                    {
                        "id": row_id,
                        "kind": "threat_text",
                        "lookup": keys.lookup(ident),
                        "value": keys.cipher.encrypt(body, purpose=Purpose.OFFENDER_IDENTIFIER),
                        "created_at": T0,
                    }
                ],
            )
            session.execute(
                insert(ThreatBand),
                [
                    {"identifier_id": row_id, "band": b, "digest": d}
                    for b, d in scripts.band_digests(body, keys.hasher)
                ],
            )
            session.execute(
                insert(CaseIdentifier),
                [
                    {
                        "case_id": 1 + t * 97 % n_cases,
                        "identifier_id": row_id,
                        "source": "analyst",
                        "created_at": T0,
                    }
                ],
            )
        print(
            f"  identifiers: {len(pairs):,} case rows over {n_identifiers:,} "
            f"(+{threats} threat texts) ({time.perf_counter() - started:.0f} s)"
        )
        data.page_urls = [f"https://leak{i % 500}.example/a/{i}" for i in range(n_pages)]
        bulk(
            session,
            Page.__table__,
            ({"id": i + 1, "url": url, "created_at": T0} for i, url in enumerate(data.page_urls)),
        )
        item_id = 0
        url_items = []
        for page in range(1, n_pages + 1):
            item_id += 1
            url_items.append(
                {
                    "id": item_id,
                    "case_id": rng.randrange(1, n_cases + 1),
                    "kind": ItemKind.URL.value,
                    "url": data.page_urls[page - 1],
                    "page_id": page,
                    "created_at": T0,
                }
            )
        bulk(session, Item.__table__, iter(url_items))
        first_file = item_id + 1
        bulk(
            session,
            Item.__table__,
            (
                {
                    "id": first_file + m,
                    "case_id": 1 + m % n_cases,
                    "kind": ItemKind.FILE.value,
                    "media_kind": MediaKind.IMAGE.value,
                    "created_at": T0,
                }
                for m in range(n_media)
            ),
        )
        bulk(
            session,
            Media.__table__,
            (
                {
                    "id": m + 1,
                    "item_id": first_file + m,
                    "origin": MediaOrigin.DEVICE.value,
                    "kind": MediaKind.IMAGE.value,
                    "first_seen_at": T0,
                }
                for m in range(n_media)
            ),
        )
        data.pdqs = [rng.randbytes(32) for _ in range(n_media)]

        def signals() -> Iterator[dict[str, Any]]:
            for m in range(n_media):
                base = 3 * m
                yield {"id": base + 1, "type": "md5", "value": rng.randbytes(16).hex()}
                yield {"id": base + 2, "type": "sha256", "value": rng.randbytes(32).hex()}
                yield {"id": base + 3, "type": "pdq", "value": data.pdqs[m].hex()}

        count = bulk(session, SignalRow.__table__, signals())
        bulk(
            session,
            MediaSignal.__table__,
            (
                {"media_id": m + 1, "signal_id": 3 * m + k, "quality": 90}
                for m in range(n_media)
                for k in (1, 2, 3)
            ),
        )
        print(
            f"  media: {n_media:,} pictures, {count:,} hashes; pages: {n_pages:,} "
            f"({time.perf_counter() - started:.0f} s)"
        )
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            # Rows were inserted with their ids: move the sequences past them.
            for table in SEQUENCED:
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                connection.execute(
                    text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")  # noqa: S608 - fixed names
                )
            connection.commit()
            connection.execute(text("ANALYZE"))
            connection.commit()
    else:
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    return data


class Clocks:
    """Wall time, and this process's CPU time: on a loaded machine the wall time counts
    waiting for a core; the CPU time does not (it leaves out the PostgreSQL server's)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Clocks:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall.append((time.perf_counter() - self._wall) * 1000)
        self.cpu.append((time.process_time() - self._cpu) * 1000)


def timed(label: str, repeat: int, action: Callable[[int], object]) -> Clocks:
    clocks = Clocks()
    for i in range(repeat):
        with clocks:
            action(i)
    report(label, clocks)
    return clocks


def _median(values: list[float]) -> float:
    # Not statistics.median: run as a script, benchmarks/statistics.py shadows the module.
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def report(label: str, clocks: Clocks) -> None:
    median, worst = _median(clocks.wall), max(clocks.wall)
    cpu = _median(clocks.cpu)
    print(
        f"  {label:<30} median {median:7.1f} ms   worst {worst:7.1f} ms   "
        f"CPU median {cpu:6.1f} ms   (n={len(clocks.wall)})"
    )


def warm_up_kernels() -> None:
    """Compile (or load from numba's cache) the index's search kernels, the scanned
    delta's too, on a throwaway index, as a server's first requests would."""
    import numpy as np

    from reclaim.matching import PdqIndex

    rng = np.random.default_rng(0)
    index = PdqIndex.build(np.arange(1000), rng.integers(0, 256, (1000, 32), dtype=np.uint8))
    index.add(np.array([5000]), rng.integers(0, 256, (1, 32), dtype=np.uint8))
    index.search(rng.integers(0, 256, (2, 32), dtype=np.uint8), 31)


def measure(engine: Engine, keys: Keys, data: Data, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed + 1)
    sessions = make_session_factory(engine)
    index = MediaPdqIndex()
    with sessions() as session:
        started = time.perf_counter()
        loaded = index.sync(session)
        seconds = time.perf_counter() - started
        print(f"  PDQ index load: {loaded:,} hashes in {seconds:.1f} s (once, at start-up)")
        warm_up_kernels()

    def new_case(i: int) -> None:
        with sessions.begin() as session:
            case = Case(
                number=f"RC-N{i:03d}{secrets.token_hex(4)}",
                pin_hash="x",
                created_at=T0,
                updated_at=T0,
            )
            session.add(case)
            session.flush()
            near = flip(data.pdqs[rng.randrange(len(data.pdqs))], 6, rng)
            page = rng.randrange(len(data.page_urls)) + 1
            session.add(
                Item(case_id=case.id, kind=ItemKind.URL, url=data.page_urls[page - 1], page_id=page)
            )
            file_item = Item(case_id=case.id, kind=ItemKind.FILE, media_kind=MediaKind.IMAGE)
            session.add(file_item)
            session.flush()
            media = Media(item_id=file_item.id, origin=MediaOrigin.DEVICE, kind=MediaKind.IMAGE)
            signal = SignalRow(type=SignalType.PDQ, value=near.hex())
            session.add_all([media, signal])
            session.flush()
            session.add(MediaSignal(media_id=media.id, signal_id=signal.id, quality=90))
            identifiers.record(
                session,
                case,
                Identifier(IdentifierKind.HANDLE, rng.choice(data.handles)),
                source=IdentifierSource.ANALYST,
                keys=keys,
            )
            identifiers.record(
                session,
                case,
                Identifier(IdentifierKind.PHONE, f"+8869{rng.randrange(10**8):08d}"),
                source=IdentifierSource.ANALYST,
                keys=keys,
            )
            session.flush()
            with link_clocks:
                outcome = linking.link_case(
                    session, case, keys=keys, media_index=index, max_distance=31
                )
            assert outcome.linked_case_ids, "a new case that shares things links to something"

    link_clocks = Clocks()
    for i in range(args.repeat):
        new_case(i)
    report("link a new case (link_case)", link_clocks)

    with sessions() as session:
        zone = ZoneInfo("Asia/Taipei")

        def by_identifier(_i: int) -> None:
            handle = rng.choice(data.handles)
            search.search(
                session,
                search.SearchKey.IDENTIFIER,
                "＠" + handle,
                keys=keys,
                media_index=index,
                max_distance=31,
                zone=zone,
            )

        def by_pdq(_i: int) -> None:
            query = flip(data.pdqs[rng.randrange(len(data.pdqs))], 8, rng).hex()
            found = search.search(
                session,
                search.SearchKey.HASH,
                query,
                keys=keys,
                media_index=index,
                max_distance=31,
                zone=zone,
            )
            assert found.found, "a hash 8 bits from a held one is found"

        timed("search by identifier", args.repeat, by_identifier)
        timed("search by PDQ (distance 31)", args.repeat, by_pdq)


def keys_for_benchmark(seed: int) -> Keys:
    """Keys drawn from the seed: a database built earlier stays readable."""
    from reclaim.fetching.quarantine.keys import Keyring

    rng = random.Random(seed)
    key = base64.b64encode(rng.randbytes(32)).decode()
    cipher = FieldCipher(Keyring.from_base64("k1", {"k1": key}))
    return Keys(cipher, LookupHasher(rng.randbytes(32)))


def run(url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    upgrade(engine)
    keys = keys_for_benchmark(args.seed)
    # Linking audits what it adds: a throwaway audit key for the benchmark's database.
    bind_keyring(engine, AuditKeyring("bench", {"bench": random.Random(args.seed).randbytes(32)}))
    print(f"building ({engine.dialect.name}, scale {args.scale}):")
    data = build(engine, keys, args)
    print("measuring:")
    measure(engine, keys, data, args)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("RECLAIM_TEST_POSTGRES_URL", ""))
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100k cases, 1M hashes")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            run(f"sqlite:///{Path(directory) / 'linkage.sqlite3'}", args)
        return
    if not args.postgres_url:
        parser.error("--postgres-url (or RECLAIM_TEST_POSTGRES_URL) is needed")
    server = make_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    name = f"reclaim_bench_linkage_{secrets.token_hex(3)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(
            make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False),
            args,
        )
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


if __name__ == "__main__":
    main()
