"""`reclaim worker`: the background job consumer."""

from __future__ import annotations

import logging

import typer

from reclaim.cli.app import app
from reclaim.cli.context import console, settings


@app.command("worker")
def worker(workers: int = typer.Option(2, min=1, max=32, help="Worker threads.")) -> None:
    """Run background jobs (notices, verification, purges) until interrupted."""
    from reclaim.jobs.queue import make_huey
    from reclaim.jobs.registry import register_tasks
    from reclaim.jobs.worker import make_consumer
    from reclaim.storage.db import make_engine, make_session_factory
    from reclaim.web.i18n import Catalogs

    config = settings()
    # The consumer's own lines (each job started, failed, skipped) go to stderr, where
    # systemd's journal keeps them.
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    huey = make_huey(config)
    translate = Catalogs(config.default_language).get(config.default_language).gettext
    register_tasks(
        huey,
        config,
        make_session_factory(make_engine(config.database_url)),
        translate=translate,
    )
    console.print(
        f"worker: {workers} threads on the {'Redis' if config.redis_url else 'SQLite'} queue"
    )
    make_consumer(huey, workers).run()
