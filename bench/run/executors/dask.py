"""Run a sweep on a Dask cluster: one task per run, a run spec in and a run record out.

Each task receives a run's :meth:`RunSpec.to_dict` and returns its :class:`RunRecord`; Keras
models and TensorFlow state never leave the worker that trained them. This process stays the
only writer of ``results/``: it writes each record atomically as soon as its task finishes, so
workers need no shared filesystem and ``--resume`` works as it does for a local sweep.

One training per worker at a time: every task asks for one unit of the worker resource
``train`` (start workers with ``--resources train=1``), and no more tasks are in flight than the
cluster has ``train`` units, so runs do not queue up on busy workers. A task whose worker dies is
rescheduled by the Dask scheduler, which counts the death against every task it had handed to
that worker; once a task's count exceeds the scheduler's ``allowed-failures`` (1 on the embedded
cluster, so one retry) the run is recorded as failed with Dask's ``KilledWorker`` reason. A task
that raises is retried once (Dask's ``retries``), then recorded as failed with its error.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import BenchError
from bench.measure.environment import usable_cores
from bench.results.record import RunError, RunRecord
from bench.results.store import write_record
from bench.run.executors import Progress, RecordHook, register_executor
from bench.run.spec import RunSpec
from bench.run.trainer import now_iso

if TYPE_CHECKING:
    from distributed import Client, Future

    from bench.data import Dataset

TRAIN_RESOURCE = "train"
LOCAL_ALLOWED_FAILURES = 1
WORKER_WAIT_SECONDS = 120
CONNECT_TIMEOUT_SECONDS = 20
CONNECT_GRACE_SECONDS = 5
THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)
INSTALL_HINT = "--executor dask needs Dask distributed: pip install 'mnist-bench[dask]'"
WORKER_HINT = "dask worker {address} --nworkers 1 --nthreads 1 --resources {resource}=1"


# --- on the worker --------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _worker_dataset(name: str, data_dir: str | None) -> Dataset:
    """Each worker process loads a dataset once, through the same verified loader."""
    from bench.data import load_dataset

    return load_dataset(name, data_dir)


@lru_cache(maxsize=1)
def _keep_dask_off_global_random() -> None:
    """Give Dask's own sampling a private generator in this worker process (once).

    Keras draws its layers' initial seeds from Python's global ``random``, which the trainer
    seeds per run; a worker's event-loop thread samples that same generator while a task runs
    (``dask.sizeof`` samples long lists and dicts, the message compressor samples bytes). Left
    alone, a Keras run's initial weights would depend on the worker's traffic; with its own
    generator, a run on a worker gives the numbers it gives in-process.
    """
    import dask.sizeof
    from distributed.protocol import compression

    private = random.Random()
    dask.sizeof.random = private
    compression.randint = private.randint


def run_task(spec: dict[str, Any]) -> RunRecord:
    """Train one run and return its record with the worker named; Dask calls this on a worker."""
    from distributed import get_worker

    from bench.run.trainer import execute_run

    _keep_dask_off_global_random()
    run = RunSpec.from_dict(spec)
    record = execute_run(run, _worker_dataset(run.dataset, run.data_dir))
    worker = get_worker()
    record.executor = {
        "name": "dask",
        "worker": worker.address,
        "worker_nthreads": worker.state.nthreads,
        "thread_limits": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }
    return record


# --- on the client --------------------------------------------------------------------------


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as error:
        raise BenchError(INSTALL_HINT) from error
    return distributed


@contextmanager
def local_client(n_workers: int | None = None) -> Iterator[Client]:
    """Start a ``LocalCluster`` of spawned worker processes and yield a client connected to it.

    One worker per core by default, one thread each, one ``train`` unit each; TensorFlow and the
    BLAS libraries in each worker get an equal share of the cores. Workers are spawned, never
    forked (TensorFlow does not survive ``fork``), and a run is retried once if its worker dies.
    """
    distributed = _import_distributed()
    import dask

    workers = n_workers or usable_cores()
    threads = str(max(1, usable_cores() // workers))
    settings = {
        "distributed.worker.multiprocessing-method": "spawn",
        "distributed.scheduler.allowed-failures": LOCAL_ALLOWED_FAILURES,
    }
    # The settings stay in force while the cluster lives: the nanny reads the start method
    # again whenever it restarts a worker that died.
    with (
        _nanny_log_level_restored() as nanny_log,
        dask.config.set(settings),
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            resources={TRAIN_RESOURCE: 1},
            env={name: threads for name in THREAD_VARIABLES},
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        try:
            yield client
        except KeyboardInterrupt:
            # Shutting the cluster down mid-task makes the library log tracebacks of its own
            # cancelled tasks; the command's one-line message says all the user needs.
            logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)
            raise
        # A worker that has loaded TensorFlow takes seconds to exit, so closing the cluster
        # after a finished sweep would warn that it killed them: not news worth printing.
        nanny_log.setLevel(logging.ERROR)


@contextmanager
def _nanny_log_level_restored() -> Iterator[logging.Logger]:
    logger = logging.getLogger("distributed.nanny")
    level = logger.level
    try:
        yield logger
    finally:
        logger.setLevel(level)


@contextmanager
def remote_client(address: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> Iterator[Client]:
    """Connect to the Dask scheduler at ``address`` within ``timeout`` seconds.

    The connection is made in a helper thread that is abandoned if the scheduler does not
    complete Dask's handshake in time (a listener that accepts and never answers would
    otherwise hold the command indefinitely).
    """
    distributed = _import_distributed()
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = distributed.Client(address, timeout=f"{timeout}s")
        except BaseException as error:  # handed to the waiting thread below
            outcome["error"] = error

    thread = threading.Thread(target=connect, name="dask-connect", daemon=True)
    thread.start()
    thread.join(timeout + CONNECT_GRACE_SECONDS)
    fix = (
        "Start one there with 'dask scheduler' and workers with '"
        + WORKER_HINT.format(address=address, resource=TRAIN_RESOURCE)
        + "', or leave out --scheduler to use a local cluster"
    )
    if thread.is_alive():
        raise BenchError(
            f"the Dask scheduler at {address} did not answer within {timeout:.0f}s "
            f"(something accepts connections there but does not speak Dask). {fix}"
        )
    if "error" in outcome:
        error = outcome["error"]
        raise BenchError(f"cannot reach a Dask scheduler at {address} ({error}). {fix}") from None
    with outcome["client"] as client:
        yield client


def _workers(client: Client) -> dict[str, dict[str, Any]]:
    """The scheduler's description of every worker, keyed by address."""
    try:
        info = client.scheduler_info(n_workers=-1)  # recent Dask lists 5 workers by default
    except TypeError:  # Dask releases before the n_workers argument list them all
        info = client.scheduler_info()
    return info["workers"]


def training_slots(client: Client) -> int:
    """How many runs the cluster can train at once: its workers' ``train`` units."""
    workers = _workers(client).values()
    return int(sum(w.get("resources", {}).get(TRAIN_RESOURCE, 0) for w in workers))


def wait_for_training_slots(client: Client, say: Progress, timeout: float) -> int:
    """Wait for a worker to join, then return the training slots; a clear error if none."""
    address = client.scheduler.address
    if not _workers(client):
        say(f"waiting up to {timeout:.0f}s for a worker to join {address}...")
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError as error:
            raise BenchError(
                f"no worker joined the Dask scheduler at {address} within {timeout:.0f}s; "
                "start one with '"
                + WORKER_HINT.format(address=address, resource=TRAIN_RESOURCE)
                + "'"
            ) from error
    slots = training_slots(client)
    if slots < 1:
        raise BenchError(
            f"no worker of the Dask cluster at {address} offers the '{TRAIN_RESOURCE}' resource, "
            "so no run could start. Restart the workers as '"
            + WORKER_HINT.format(address=address, resource=TRAIN_RESOURCE)
            + "' (one training per worker keeps the timings honest)"
        )
    return slots


def lost_run_record(run: RunSpec, error: BaseException, trace: str | None) -> RunRecord:
    """A failed record for a run whose task raised or whose workers kept dying.

    No worker reported an environment for it, so ``environment`` is empty; ``executor.worker``
    names the last worker that died running it, where Dask says.
    """
    last_worker = getattr(getattr(error, "last_worker", None), "address", None)
    return RunRecord.failed(
        run,
        RunError(type(error).__name__, str(error), trace),
        started_at="",
        finished_at=now_iso(),
        executor={"name": "dask", "worker": last_worker},
    )


def _record_of(future: Future, run: RunSpec) -> RunRecord:
    if future.status == "finished":
        return future.result()
    if future.status == "error":
        error = future.exception()
        frames = future.traceback()
        trace = "".join(traceback.format_tb(frames)) if frames is not None else None
        return lost_run_record(run, error, trace)
    raise BenchError(
        f"the Dask cluster dropped {run.label} on {run.dataset}, seed {run.seed} "
        f"(task {future.status}: scheduler gone or restarted?). Finished records are kept; "
        "rerun the same command with --resume to do the rest"
    )


def run_on_client(
    client: Client,
    runs: Sequence[RunSpec],
    results_dir: Path,
    say: Progress = print,
    on_record: RecordHook | None = None,
) -> list[RunRecord]:
    """Train ``runs`` on the cluster behind ``client``, writing each record as it arrives
    (then calling ``on_record(record, path)`` when given)."""
    from distributed import as_completed

    from bench.run.executors.local import summary_line

    slots = wait_for_training_slots(client, say, WORKER_WAIT_SECONDS)
    say(f"Dask cluster at {client.scheduler.address}: {slots} training slot(s)")
    pending = list(reversed(runs))
    in_flight: dict[str, tuple[RunSpec, float]] = {}
    completed = as_completed()

    def submit_next() -> None:
        run = pending.pop()
        future = client.submit(
            run_task,
            run.to_dict(),
            key=f"train-{run.run_id}-{uuid.uuid4().hex[:8]}",
            pure=False,
            retries=1,
            resources={TRAIN_RESOURCE: 1},
        )
        in_flight[future.key] = (run, time.perf_counter())
        completed.add(future)

    while pending and len(in_flight) < slots:
        submit_next()
    records = []
    for future in completed:
        run, start = in_flight.pop(future.key)
        record = _record_of(future, run)
        future.release()
        path = write_record(results_dir, record)
        records.append(record)
        worker = (record.executor or {}).get("worker") or "unknown worker"
        position = f"[{len(records)}/{len(runs)}]"
        say(f"{summary_line(position, run, record, time.perf_counter() - start, path)} on {worker}")
        if on_record is not None:
            on_record(record, path)
        if pending:
            capacity = max(1, training_slots(client))
            while pending and len(in_flight) < capacity:
                submit_next()
    return records


@register_executor("dask", takes_scheduler=True)
def run_on_dask(
    runs: Sequence[RunSpec],
    results_dir: Path,
    say: Progress = print,
    scheduler: str | None = None,
    on_record: RecordHook | None = None,
) -> list[RunRecord]:
    """Run ``runs`` on the cluster at ``scheduler``, or on a new local cluster when it is None."""
    if not runs:
        return []
    if not scheduler:
        say(f"starting a local Dask cluster: {usable_cores()} worker process(es), one run each")
    connect = remote_client(scheduler) if scheduler else local_client()
    with connect as client:
        return run_on_client(client, runs, results_dir, say, on_record)
