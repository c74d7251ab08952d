"""Benchmark: every statistics view and the monthly report on a large synthetic history.

    .venv/bin/python benchmarks/statistics.py                      # 1,000,000 reports, SQLite
    .venv/bin/python benchmarks/statistics.py --reports 100000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/test        # and PostgreSQL

The history comes from ``reclaim.demo.history`` (24 months; about 2 items per report and
0.3 notices per report, as issue 15 asks: 1M reports, 2M items, 300k notices), written
once per database (``--reuse`` keeps an existing one).  The closed months are rolled up
first (``statistics.rollups.refresh``, what the hourly job does; its time is printed);
``--live`` drops the rollups and times every figure computed from the rows.  Each view
is timed as the median of ``--repeat`` runs after one warm-up, over the last 12 months
(the console's default):

- ``figures``: every figure (statistics.figures.compute), what the console page,
  ``reclaim stats`` and the exports compute;
- ``console page``: figures + the three charts + the tables in words;
- ``public page``: the transparency page's figures and charts;
- ``export json`` / ``export csv``;
- ``monthly report pdf``: one month's figures, charts and the PDF (WeasyPrint).

Targets (issue 15): under 2 s on PostgreSQL and under 5 s on SQLite on the 2-core machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named as issue 15 asks; run as a script, its folder comes first on the
# path and "import statistics" (the standard library's, which libraries use) would
# find this file instead.  Drop the folder from the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from reclaim.cases.models import Item, Report
from reclaim.demo.history import make_history
from reclaim.documents.words import Wording
from reclaim.domain.languages import Language
from reclaim.domain.times import zone_named
from reclaim.migrations import upgrade
from reclaim.statistics import exporting, presenting, reports, rollups
from reclaim.statistics.domain import Filter, Period, previous_month
from reclaim.statistics.figures import compute
from reclaim.statistics.labels import LABELS
from reclaim.statistics.models import Rollup, RollupDuration
from reclaim.statistics.public import public_figures, public_period
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.takedown.models import Notice
from reclaim.web.i18n import Catalogs

MONTHS = 24
ITEMS_PER_REPORT = 2.0
REPORTS_PER_CASE = 1.1
REMOVABLE_PER_ITEM = 0.7 * 0.7  # URL items, decided as removable
END = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
ZONE = zone_named("Asia/Taipei")


def wording(language: str = "zh_TW") -> Wording:
    catalogs = Catalogs("zh_TW")
    return Wording(Language(language), catalogs.get(language).gettext, LABELS, ZONE)


def generate(session: Session, reports_wanted: int) -> float:
    started = time.perf_counter()
    cases = round(reports_wanted / REPORTS_PER_CASE)
    rate = 0.3 / (ITEMS_PER_REPORT * REMOVABLE_PER_ITEM)
    make_history(
        session,
        months=MONTHS,
        end=END,
        cases_per_month=max(1, cases // MONTHS),
        seed=2026,
        record_views=False,
        bulk_views=True,
        notice_rate=rate,
    )
    session.commit()
    return time.perf_counter() - started


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall-clock seconds and median CPU seconds of this process (on a shared,
    oversubscribed machine the CPU time is the fairer figure for SQLite, which runs in
    the process; PostgreSQL's work happens in the server and shows only in wall time)."""
    action()  # warm-up (caches, the first chart's font loading)
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def measure(
    name: str, url: str, reports_wanted: int, *, reuse: bool, repeat: int, live: bool
) -> None:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        existing = session.scalar(select(func.count()).select_from(Report)) or 0
        if not (reuse and existing):
            seconds = generate(session, reports_wanted)
            print(f"{name}: generated in {seconds:.0f} s")
        session.execute(text("ANALYZE"))
        session.commit()
        counts = {
            "reports": session.scalar(select(func.count()).select_from(Report)),
            "items": session.scalar(select(func.count()).select_from(Item)),
            "notices": session.scalar(select(func.count()).select_from(Notice)),
        }
        print(f"{name}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        if not live:
            # What the hourly job does; no one else writes to this database, so no
            # margin for late commits is needed.
            rollups.MARGIN = timedelta(0)
            started = time.perf_counter()
            built = rollups.refresh(session, ZONE, END)
            session.commit()
            print(f"rollups: {built} months computed in {time.perf_counter() - started:.1f} s")
        else:
            session.execute(delete(RollupDuration))
            session.execute(delete(Rollup))
            session.commit()
            print("rollups: none (every figure live)")
        today = END.astimezone(ZONE).date()
        year = Filter(Period.last_months(today, 12, ZONE))
        zh, en = wording("zh_TW"), wording("en")
        y, m = previous_month(today)
        month = Period.month(y, m, ZONE)

        def console_page() -> None:
            figures = compute(session, year, END)
            presenting.charts(figures, zh)
            presenting.shown_tables(figures, zh)

        def monthly_pdf() -> None:
            report = reports.build(
                session, reports.ReportKind.MONTHLY, month, hotline="Reclaim", now=END
            )
            reports.render(report, "pdf", en)

        views: list[tuple[str, Callable[[], Any]]] = [
            ("figures", lambda: compute(session, year, END)),
            ("console page", console_page),
            (
                "public page",
                lambda: public_figures(
                    session, public_period(today, ZONE, None), threshold=5, now=END
                ),
            ),
            ("export json", lambda: exporting.json_bytes(compute(session, year, END))),
            ("export csv", lambda: exporting.csv_bytes(compute(session, year, END))),
            ("monthly report pdf", monthly_pdf),
        ]
        target = 2.0 if engine.dialect.name == "postgresql" else 5.0
        print(f"{'view':<22}{'wall s':>10}{'cpu s':>10}  target {target:.0f} s (wall)")
        for label, action in views:
            wall, cpu = timed(action, repeat)
            mark = "ok" if wall < target else "OVER"
            print(f"{label:<22}{wall:>10.2f}{cpu:>10.2f}  {mark}")
    engine.dispose()


def postgres_scratch(url: str, reuse: bool, name: str) -> str:
    server = make_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if exists and not reuse:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            exists = None
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    scratch = make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(scratch)
    upgrade(engine)
    engine.dispose()
    return scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--sqlite", default="var/bench-statistics.sqlite3")
    parser.add_argument("--postgres", default="", help="a server URL; a scratch database is made")
    parser.add_argument(
        "--postgres-database",
        default="reclaim_bench_statistics",
        help="the scratch database's name (one per size, to keep several with --reuse)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep databases already generated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--live", action="store_true", help="drop the monthly rollups: every figure live"
    )
    args = parser.parse_args()
    if not args.no_sqlite:
        path = Path(args.sqlite)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not args.reuse:
            path.unlink()
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        measure("SQLite", url, args.reports, reuse=args.reuse, repeat=args.repeat, live=args.live)
    if args.postgres:
        measure(
            "PostgreSQL",
            postgres_scratch(args.postgres, args.reuse, args.postgres_database),
            args.reports,
            reuse=args.reuse,
            repeat=args.repeat,
            live=args.live,
        )


if __name__ == "__main__":
    main()
