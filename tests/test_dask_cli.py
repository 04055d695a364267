"""A real Dask deployment started from the command line: `dask scheduler` and two `dask worker`
processes on localhost; one worker is killed mid-sweep and every run is still recorded once."""

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


def test_a_worker_killed_mid_sweep_loses_no_run(cluster, tmp_path, capsys):
    address, workers = cluster
    results = tmp_path / "results"
    argv = ["run", "--model", "mlp:small", "--set", "epochs=4", "--dataset", "digits"]
    argv += ["--repeats", "4", "--scheduler", address, "--results-dir", str(results), "--no-report"]
    outcome: dict[str, int] = {}
    sweep = threading.Thread(target=lambda: outcome.setdefault("code", main(argv)))
    sweep.start()
    wait_for(lambda: len(list(results.glob("runs/*/record.json"))) >= 1, "the first record")
    workers[0].send_signal(signal.SIGKILL)
    sweep.join(timeout=300)
    assert not sweep.is_alive(), "the sweep finished"
    records = load_records(results)
    assert outcome["code"] == 0, capsys.readouterr().out
    assert sorted(r.seed for r in records) == [0, 1, 2, 3], "every run recorded exactly once"
    assert all(r.ok for r in records)
    assert len({r.executor["worker"] for r in records}) >= 1
