"""A real Dask deployment started from the command line: `dask scheduler` and two `dask worker`
processes on localhost; the worker that is training is killed mid-run, and every run is still
executed to the end exactly once and recorded once.

Executions are counted by the model itself: each fit notes its start and end, with its process
and worker, in a log file shared by the processes (not by counting record folders, where a
duplicate could never show)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="needs dask[distributed] (pip install '.[dask]')")

from bench.cli import main  # noqa: E402
from bench.results.store.files import load_records  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
START_SECONDS = 90
LOG_VARIABLE = "BENCH_TEST_EXECUTION_LOG"
NOTED_MODEL_FILE = '''
import os
import time
from pathlib import Path

from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


def note(event, token):
    """One line per event: event, the fit's random_state, process id, worker address."""
    try:
        from distributed import get_worker

        where = get_worker().address
    except Exception:
        where = "client"
    with Path(os.environ["BENCH_TEST_EXECUTION_LOG"]).open("a") as log:
        log.write(f"{event} {token} {os.getpid()} {where}\\n")


@register_model(family="sklearn", preprocess=flatten_and_scale, config={"max_iter": 5})
def noted_sgd(config, input_shape, num_classes):
    """SGD whose training fit notes its start and end, and takes 3 s (test model)."""
    from sklearn.linear_model import SGDClassifier

    class Noted(SGDClassifier):
        def fit(self, x, y, **kwargs):
            training = len(x) > num_classes  # not the fit on blank images
            if training:
                note("start", self.random_state)
                time.sleep(3)
            fitted = super().fit(x, y, **kwargs)
            if training:
                note("end", self.random_state)
            return fitted

    return Noted(loss="log_loss", max_iter=config["max_iter"])
'''


def dask_command(*args: str) -> list[str]:
    """The ``dask`` command line of this environment."""
    executable = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if executable is None:
        pytest.skip("the dask command is not installed")
    return [executable, *args]


def wait_for(condition, what: str, timeout: float = START_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two one-slot workers as separate processes; yields (address, workers)."""
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env[LOG_VARIABLE] = str(tmp_path / "executions.log")
    common = {"cwd": REPO, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            dask_command(
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ),
            **common,
        )
    ]
    wait_for(scheduler_file.exists, "the scheduler file")
    address = json.loads(scheduler_file.read_text())["address"]
    workers = [
        subprocess.Popen(
            dask_command(
                "worker",
                address,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--resources",
                "train=1,backend-tensorflow=1",
                "--no-dashboard",
                "--no-nanny",
            ),
            **common,
        )
        for _ in range(2)
    ]
    processes += workers
    try:
        yield address, workers
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def executions(log: Path) -> list[tuple[str, str, int, str]]:
    """(event, token, pid, worker) per line of the execution log."""
    if not log.exists():
        return []
    rows = [line.split() for line in log.read_text().splitlines() if line.strip()]
    return [(event, token, int(pid), worker) for event, token, pid, worker in rows]


def training_now(log: Path, pids: set[int]) -> int | None:
    """The process id of a worker that has started a fit and not ended it, if any."""
    rows = executions(log)
    ended = {(token, pid) for event, token, pid, _ in rows if event == "end"}
    busy = [pid for event, token, pid, _ in rows if event == "start" and (token, pid) not in ended]
    return next((pid for pid in busy if pid in pids), None)


def test_the_worker_that_is_training_is_killed_and_every_run_ends_once(
    cluster, tmp_path, monkeypatch, capsys
):
    address, workers = cluster
    log = tmp_path / "executions.log"
    monkeypatch.setenv(LOG_VARIABLE, str(log))
    model_file = tmp_path / "noted_models.py"
    model_file.write_text(NOTED_MODEL_FILE)
    results = tmp_path / "results"
    argv = ["run", "--models-from", str(model_file), "--model", "noted_sgd", "--dataset", "digits"]
    argv += ["--repeats", "4", "--scheduler", address, "--results-dir", str(results), "--no-report"]
    outcome: dict[str, int] = {}
    sweep = threading.Thread(target=lambda: outcome.setdefault("code", main(argv)))
    sweep.start()
    pids = {worker.pid for worker in workers}
    victim: dict[str, int | None] = {}

    def a_worker_trains() -> bool:
        victim["pid"] = training_now(log, pids)
        return victim["pid"] is not None

    wait_for(a_worker_trains, "a worker to start a fit", timeout=2 * START_SECONDS)
    os.kill(victim["pid"], signal.SIGKILL)
    sweep.join(timeout=300)
    assert not sweep.is_alive(), "the sweep finished"
    out = capsys.readouterr().out
    assert outcome["code"] == 0, out

    rows = executions(log)
    killed = [token for event, token, pid, _ in rows if event == "start" and pid == victim["pid"]]
    ended = [token for event, token, _, _ in rows if event == "end"]
    assert len(set(ended)) == 4 and sorted(ended) == sorted(set(ended)), "every run ended once"
    assert killed[-1] not in [t for e, t, pid, _ in rows if e == "end" and pid == victim["pid"]]
    started = [token for event, token, _, _ in rows if event == "start"]
    assert started.count(killed[-1]) == 2, "the killed run started again, elsewhere"

    records = load_records(results)
    assert sorted(r.seed for r in records) == [0, 1, 2, 3] and all(r.ok for r in records)
    assert sum(line.startswith("[") and "/4]" in line for line in out.splitlines()) == 4, (
        "the client wrote four records, once each"
    )
    by_worker = [worker for event, _, _, worker in rows if event == "end"]
    assert sorted(r.executor["worker"] for r in records) == sorted(by_worker), (
        "each record names the worker whose fit ended"
    )
