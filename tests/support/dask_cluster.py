"""A real Dask cluster on loopback for the scanning tests: a ``dask scheduler`` and
``dask worker`` processes, as an operator would start them (not a LocalCluster)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
#: Generous bound for a loaded CI machine to start a process; not a timing assumption.
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Cluster:
    address: str
    folder: Path
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_worker(self) -> subprocess.Popen[bytes]:
        # No nanny: the process started is the worker, so killing it kills the worker.
        number = len(self.workers)
        with (self.folder / f"worker-{number}.log").open("wb") as log:
            worker = subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--local-directory",
                    str(self.folder / f"worker-{number}"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Client(self.address, timeout=f"{START_SECONDS}s") as client:  # type: ignore[no-untyped-call]
                client.wait_for_workers(count, timeout=START_SECONDS)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.kill(process)


def start_cluster(folder: Path, workers: int = 2) -> Cluster:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (folder / "scheduler.log").open("wb") as log:
        scheduler = subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    cluster = Cluster(f"tcp://127.0.0.1:{port}", folder, scheduler)
    for _ in range(workers):
        cluster.add_worker()
    cluster.wait_for_workers(workers)
    return cluster
