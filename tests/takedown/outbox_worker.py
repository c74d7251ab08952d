"""Building an outbox for tests, in this process or in a worker process we can kill."""

from __future__ import annotations

import dataclasses
import os
import sys

from sqlalchemy import Engine

from reclaim.config import Settings
from reclaim.storage.db import make_engine, make_session_factory
from reclaim.takedown.outbox import Outbox
from reclaim.takedown.tasks import build_outbox


def make_outbox(settings: Settings, engine: Engine, **options: object) -> Outbox:
    """The worker's outbox, with ``options`` (a clock, a crash hook) replaced."""
    outbox = build_outbox(settings, make_session_factory(engine))
    return dataclasses.replace(outbox, **options)  # type: ignore[arg-type]


def main() -> None:
    """``python -m tests.takedown.outbox_worker DELIVERY_ID CRASH_AT``: settings from
    the environment; the process dies (no clean-up, like a killed worker) at CRASH_AT."""
    from reclaim.audit.keys import use_settings
    from reclaim.config import load_settings

    delivery_id, crash_at = int(sys.argv[1]), sys.argv[2]
    settings = load_settings()
    use_settings(settings)  # what every entry point does: the audit key for this process

    def crash(step: str) -> None:
        if step == crash_at:
            os._exit(17)

    engine = make_engine(settings.database_url)
    make_outbox(settings, engine, crash_hook=crash).deliver(delivery_id)
    os._exit(0)


if __name__ == "__main__":
    main()
