"""Trial batches through the run executors: in this process, or on one Dask cluster kept for
the whole tune (a local cluster, or the scheduler at ``--scheduler``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.core.errors import BenchError
from bench.core.spec import RunSpec
from bench.results.store.record import RunRecord
from bench.tune.study import BatchRunner, Progress

EXECUTOR_NAMES = ("local", "dask")


@contextmanager
def trial_runner(
    executor: str, say: Progress, scheduler: str | None = None, workers: int | None = None
) -> Iterator[tuple[BatchRunner, int]]:
    """Yield ``(run_batch, batch_size)``: a function training a batch of trial runs through the
    chosen executor, and how many trials a batch holds (its training slots)."""
    if executor == "local":
        if scheduler:
            raise BenchError(
                "--scheduler sends trials to a Dask cluster: use it with --executor dask"
            )
        from bench.run.executors.local import run_in_process

        def run_local(runs: list[RunSpec], folder: Path) -> list[RunRecord]:
            return run_in_process(runs, folder, say)

        yield run_local, 1
        return
    if executor != "dask":
        raise BenchError(
            f"unknown executor {executor!r}; choose one of {', '.join(EXECUTOR_NAMES)}"
        )
    from bench.run.executors.dask import (
        WORKER_WAIT_SECONDS,
        local_client,
        remote_client,
        run_on_client,
        wait_for_training_slots,
    )

    connect = remote_client(scheduler) if scheduler else local_client(n_workers=workers)
    with connect as client:
        slots = wait_for_training_slots(client, say, WORKER_WAIT_SECONDS)

        def run_dask(runs: list[RunSpec], folder: Path) -> list[RunRecord]:
            return run_on_client(client, runs, folder, say)

        yield run_dask, slots
