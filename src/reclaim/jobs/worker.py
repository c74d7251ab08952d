"""Running the huey consumer: on its own (`reclaim worker`) or beside the web server."""

from __future__ import annotations

from huey import Huey
from huey.consumer import Consumer


def make_consumer(huey: Huey, workers: int = 2) -> Consumer:
    # Thread workers: jobs are I/O-bound (mail, webhooks, fetching) and share the
    # process's database engine and match index.
    return huey.create_consumer(workers=workers, worker_type="thread", periodic=True)


class InProcessWorker:
    """A consumer started and stopped with the web server (the embedded default)."""

    def __init__(self, huey: Huey, workers: int = 1) -> None:
        self._consumer = make_consumer(huey, workers)

    def start(self) -> None:
        self._consumer.start()

    def stop(self) -> None:
        self._consumer.stop(graceful=True)
