"""Run a sweep on a Dask cluster: one task per run, a run spec in and a run record out.

Each task receives a run's :meth:`RunSpec.to_dict` and returns its :class:`RunRecord`; Keras
models and TensorFlow state never leave the worker that trained them. This process stays the
only writer of ``results/``: it writes each record atomically as soon as its task finishes, so
workers need no shared filesystem and ``--resume`` works as it does for a local sweep.

One training per worker at a time: every task asks for one unit of the worker resource
``train`` (start workers with ``--resources train=1``), and no more tasks are in flight than the
cluster has ``train`` units, so runs do not queue up on busy workers. A worker process serves
one Keras backend (Keras fixes it at first import): workers started with
``KERAS_BACKEND=jax`` offer the resource ``backend-jax``, and every Keras run asks for the
resource of its backend (``backend-tensorflow`` by default), so it trains only on a worker of
that backend; scikit-learn and PyTorch runs ask only for ``train``. A task whose worker dies is
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

from bench.core.errors import BenchError
from bench.core.spec import DEFAULT_BACKEND, RunSpec
from bench.measure.environment import usable_cores
from bench.results.store.files import write_record
from bench.results.store.record import RunError, RunRecord
from bench.run.executors import Progress, RecordHook, register_executor
from bench.run.trainer import now_iso

if TYPE_CHECKING:
    from distributed import Client, Future

    from bench.data import Dataset

TRAIN_RESOURCE = "train"
BACKEND_RESOURCE = "backend-{backend}"
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
BACKEND_WORKER_HINT = (
    "KERAS_BACKEND={backend} dask worker {address} --nworkers 1 --nthreads 1 "
    "--resources train=1,backend-{backend}=1"
)
WORKER_HINT = BACKEND_WORKER_HINT.replace("{backend}", DEFAULT_BACKEND)


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
    if run.models_from:  # a model from the user's file: the same path must exist here
        from bench.models.user_files import load_model_file

        load_model_file(run.models_from)
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


def backend_resource(backend: str) -> str:
    """The worker resource that marks a worker process serving Keras ``backend``."""
    return BACKEND_RESOURCE.format(backend=backend)


def run_resources(run: RunSpec) -> dict[str, int]:
    """What a run's task asks of a worker: one ``train`` unit, and for a Keras run, a worker
    of its backend."""
    from bench.models.registry import get_model
    from bench.run.backends import uses_backends

    resources = {TRAIN_RESOURCE: 1}
    if uses_backends(get_model(run.model).family):
        resources[backend_resource(run.backend)] = 1
    return resources


def keras_backends(runs: Sequence[RunSpec]) -> list[str]:
    """The Keras backends the Keras runs of ``runs`` train on, sorted."""
    return sorted({run.backend for run in runs if len(run_resources(run)) > 1})


def worker_backends(n_workers: int, backends: Sequence[str]) -> list[str]:
    """The backend of each of ``n_workers`` local workers: every backend at least once, the
    rest shared round-robin (so ``len(backends)`` workers at least)."""
    count = max(n_workers, len(backends))
    return [backends[i % len(backends)] for i in range(count)]


@contextmanager
def local_client(
    n_workers: int | None = None, backends: Sequence[str] = (DEFAULT_BACKEND,)
) -> Iterator[Client]:
    """Start a ``LocalCluster`` of spawned worker processes and yield a client connected to it.

    One worker per core by default (at least one per Keras backend in ``backends``), one thread
    each, one ``train`` unit each and the resource of the Keras backend it serves
    (``KERAS_BACKEND`` set in its environment); TensorFlow and the BLAS libraries in each
    worker get an equal share of the cores. Workers are spawned, never forked (TensorFlow does
    not survive ``fork``), and a run is retried once if its worker dies.
    """
    distributed = _import_distributed()
    import dask
    from distributed.system import MEMORY_LIMIT

    plan = worker_backends(n_workers or usable_cores(), list(backends))
    workers = len(plan)
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
            n_workers=0,
            threads_per_worker=1,
            processes=True,
            resources={TRAIN_RESOURCE: 1},
            env={name: threads for name in THREAD_VARIABLES},
            memory_limit=MEMORY_LIMIT // workers,  # an equal share each, as LocalCluster gives
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        _add_backend_workers(cluster, plan)
        client.wait_for_workers(workers, timeout=WORKER_WAIT_SECONDS)
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


def _add_backend_workers(cluster: Any, plan: list[str]) -> None:
    """Start one worker per entry of ``plan`` on ``cluster``, each serving that Keras backend:
    the cluster's own worker spec, with the backend's resource and ``KERAS_BACKEND`` added."""
    base = cluster.new_spec
    for backend in dict.fromkeys(plan):
        options = dict(base["options"])
        options["resources"] = {**options.get("resources", {}), backend_resource(backend): 1}
        options["env"] = {**options.get("env", {}), "KERAS_BACKEND": backend}
        cluster.new_spec = {**base, "options": options}  # a new dict: earlier specs keep theirs
        cluster.scale(len(cluster.worker_spec) + plan.count(backend))
    cluster.new_spec = base


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


def served_backends(client: Client) -> set[str]:
    """The Keras backends some worker of the cluster offers the resource of."""
    prefix = backend_resource("")
    return {
        name[len(prefix) :]
        for worker in _workers(client).values()
        for name, amount in worker.get("resources", {}).items()
        if name.startswith(prefix) and amount > 0
    }


def wait_for_training_slots(
    client: Client, say: Progress, timeout: float, needed_backends: Sequence[str] = ()
) -> int:
    """Wait for a worker to join, then return the training slots; a clear error if none, or
    if no worker serves one of the Keras backends ``needed_backends``."""
    address = client.scheduler.address
    if not _workers(client):
        say(f"waiting up to {timeout:.0f}s for a worker to join {address}...")
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError as error:
            raise BenchError(
                f"no worker joined the Dask scheduler at {address} within {timeout:.0f}s; "
                "start one with '" + WORKER_HINT.format(address=address) + "'"
            ) from error
    slots = training_slots(client)
    missing = [b for b in needed_backends if b not in served_backends(client)]
    if missing:
        raise BenchError(
            f"no worker of the Dask cluster at {address} serves the Keras backend "
            + " or ".join(repr(b) for b in missing)
            + ", so those runs could never start. A worker process serves one backend: start "
            + "; ".join(
                "'" + BACKEND_WORKER_HINT.format(address=address, backend=b) + "'" for b in missing
            )
        )
    if slots < 1:
        raise BenchError(
            f"no worker of the Dask cluster at {address} offers the '{TRAIN_RESOURCE}' resource, "
            "so no run could start. Restart the workers as '"
            + WORKER_HINT.format(address=address)
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

    slots = wait_for_training_slots(client, say, WORKER_WAIT_SECONDS, keras_backends(runs))
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
            resources=run_resources(run),
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
    backends = keras_backends(runs) or [DEFAULT_BACKEND]
    if not scheduler:
        count = len(worker_backends(usable_cores(), backends))
        say(
            f"starting a local Dask cluster: {count} worker process(es), one run each"
            + (f", serving {', '.join(backends)}" if len(backends) > 1 else "")
        )
    connect = remote_client(scheduler) if scheduler else local_client(backends=backends)
    with connect as client:
        return run_on_client(client, runs, results_dir, say, on_record)
