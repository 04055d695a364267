"""A worker process per Keras backend, for runs of another backend than this process's.

Keras fixes its backend at first import, so the in-process executor hands a run of another
backend to a worker process started for that backend: spawned (never forked: TensorFlow does
not survive ``fork``), with ``KERAS_BACKEND`` set before anything imports Keras. The worker
receives a run's :meth:`RunSpec.to_dict`, trains it with the same :func:`execute_run`, sends
each epoch's progress line back as it happens, and returns the :class:`RunRecord`; this
process alone writes records. A worker serves its backend's runs one at a time, until the
sweep ends. Ctrl-C stops the sweep in this process, which then ends its workers; a worker
whose parent process was killed exits by itself (after the run it is training, if any).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bench.core.backend import ENVIRONMENT_VARIABLE
from bench.core.spec import RunSpec
from bench.results.store.record import RunError, RunRecord

if TYPE_CHECKING:
    from bench.data import Dataset

POLL_SECONDS = 1.0
PARENT_CHECK_SECONDS = 5.0
STOP_SECONDS = 30.0
EpochCallback = Callable[[dict[str, Any]], None]


# --- in the worker --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _dataset(name: str, data_dir: str | None) -> Dataset:
    from bench.data import load_dataset

    return load_dataset(name, data_dir)


def serve(backend: str, requests: Any, replies: Any) -> None:
    """The worker's loop: train each run it receives, until it receives None."""
    os.environ[ENVIRONMENT_VARIABLE] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends us
    from bench.models.user_files import load_model_file
    from bench.run.trainer import execute_run, now_iso

    parent = multiprocessing.parent_process()
    while True:
        try:
            message = requests.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return  # the sweep's process is gone (killed): nobody will read our records
            continue
        if message is None:
            return
        run = RunSpec.from_dict(message)
        try:
            if run.models_from:
                load_model_file(run.models_from)
            dataset = _dataset(run.dataset, run.data_dir)
        except Exception as error:  # reported as the run's failure, the worker carries on
            stamp = now_iso()
            reason = RunError(type(error).__name__, str(error))
            failed = RunRecord.failed(run, reason, started_at=stamp, finished_at=stamp)
            replies.put(("record", failed))
            continue
        record = execute_run(run, dataset, on_epoch=lambda entry: replies.put(("epoch", entry)))
        record.executor = {"name": "local", "process": f"{backend} worker", "pid": os.getpid()}
        replies.put(("record", record))


# --- in this process ------------------------------------------------------------------------


class BackendWorker:
    """One spawned worker process whose Keras runs on ``backend``."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        context = multiprocessing.get_context("spawn")
        self.requests = context.Queue()
        self.replies = context.Queue()
        self.process = context.Process(
            target=serve,
            args=(backend, self.requests, self.replies),
            name=f"bench-{backend}-worker",
            daemon=True,
        )
        self.process.start()

    def run(self, run: RunSpec, on_epoch: EpochCallback | None = None) -> RunRecord:
        """Train ``run`` in the worker and return its record; a worker that dies gives a
        failed record saying so."""
        self.requests.put(run.to_dict())
        while True:
            try:
                kind, payload = self.replies.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self.process.is_alive():
                    return self._died(run)
                continue
            if kind == "record":
                return payload
            if on_epoch is not None:
                on_epoch(payload)

    def _died(self, run: RunSpec) -> RunRecord:
        from bench.run.trainer import now_iso

        code = self.process.exitcode
        reason = RunError(
            "WorkerDied",
            f"the {self.backend} worker process ended (exit code {code}) while training this "
            "run; rerun with --resume to retry it",
        )
        stamp = now_iso()
        return RunRecord.failed(run, reason, started_at="", finished_at=stamp)

    @property
    def alive(self) -> bool:
        """True while the worker process runs."""
        return self.process.is_alive()

    def close(self, wait: bool = True) -> None:
        """Ask the worker to finish (``wait``) and end it if it does not, or end it now."""
        if wait and self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):  # a queue already closed
                self.requests.put(None)
            self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_SECONDS)
        self.requests.close()
        self.replies.close()


class BackendWorkers:
    """The workers of a sweep, one per backend, started when first needed (a context manager
    that ends them all)."""

    def __init__(self) -> None:
        self.workers: dict[str, BackendWorker] = {}

    def run(self, run: RunSpec, on_epoch: EpochCallback | None = None) -> RunRecord:
        """Train ``run`` in the worker of its backend (a fresh one if the last one died)."""
        worker = self.workers.get(run.backend)
        if worker is None or not worker.alive:
            worker = self.workers[run.backend] = BackendWorker(run.backend)
        return worker.run(run, on_epoch)

    def close(self, wait: bool = True) -> None:
        """End every worker: after its current run (``wait``), or at once."""
        for worker in self.workers.values():
            worker.close(wait)
        self.workers.clear()

    def __enter__(self) -> BackendWorkers:
        return self

    def __exit__(self, kind: type | None, *exc: object) -> None:
        self.close(wait=kind is None)  # after Ctrl-C or an error, do not wait for a run
