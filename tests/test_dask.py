"""The Dask executor: same records as in-process, one writer, faults recorded once.

Every test here shares one ``LocalCluster`` of two spawned worker processes (the embedded
cluster ``--executor dask`` starts), and trains on the small ``digits`` dataset.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

distributed = pytest.importorskip(
    "distributed", reason="the Dask executor needs dask[distributed] (pip install '.[dask]')"
)

from bench.cli import main  # noqa: E402
from bench.core.errors import BenchError  # noqa: E402
from bench.core.spec import RunSpec  # noqa: E402
from bench.results.report.aggregate import aggregate  # noqa: E402
from bench.results.report.markdown import hosts_note, main_table  # noqa: E402
from bench.results.store.files import load_records  # noqa: E402
from bench.results.store.record import RunRecord  # noqa: E402
from bench.run.executors.dask import (  # noqa: E402
    _keep_dask_off_global_random,
    local_client,
    remote_client,
    run_on_client,
    run_on_dask,
)
from bench.run.executors.local import run_in_process  # noqa: E402
from bench.run.selection import build_runs  # noqa: E402

SEEDS = [0, 1]
WAIT_SECONDS = 120


@pytest.fixture(scope="module")
def client():
    """A client of a two-worker local cluster, as ``--executor dask`` starts it."""
    with local_client(n_workers=2) as dask_client:
        yield dask_client


def sweep(*models: str) -> list[RunSpec]:
    """The test sweep: ``models`` on digits, two seeds, the MLP trained for 2 epochs."""
    overrides = ["mlp.epochs=2"] if any(m.startswith("mlp") for m in models) else []
    return build_runs(list(models), ["digits"], SEEDS, overrides)


def comparable(record: RunRecord) -> dict:
    """The parts of a record that must not depend on where the run trained."""
    return {
        "run_id": record.run_id,
        "status": record.status,
        "run": record.run.to_dict(),
        "accuracy": record.accuracy,
        "macro_f1": record.metrics["macro_f1"],
        "predictions": record.predictions,
        "parameters": record.parameters,
        "losses": [epoch["loss"] for epoch in record.history],
    }


@pytest.mark.slow
def test_cluster_gives_the_in_process_records(client, tmp_path: Path) -> None:
    runs = sweep("knn", "mlp:small")
    local = run_in_process(runs, tmp_path / "local", say=lambda _line: None)
    lines: list[str] = []
    remote = run_on_client(client, runs, tmp_path / "dask", say=lines.append)

    assert len(remote) == len(local) == len(runs), "every run once, on the cluster as here"
    by_id = {record.run_id: record for record in remote}
    assert sorted(by_id) == sorted(r.run_id for r in local), "same runs, each once"
    for record in local:
        assert record.ok
        assert comparable(by_id[record.run_id]) == comparable(record)
    on_disk = load_records(tmp_path / "dask")
    assert sorted(r.run_id for r in on_disk) == sorted(by_id)
    assert all(r.probabilities for r in on_disk), "probabilities travel back from the workers"

    workers = set(client.scheduler_info()["workers"])
    assert {r.executor["worker"] for r in remote} == workers, "both workers trained"
    for record in remote:
        assert record.environment["hostname"]
        assert record.executor["worker_nthreads"] == 1
    progress = [line for line in lines if line.startswith("[")]
    assert [line.split("]")[0] for line in progress] == ["[1/3", "[2/3", "[3/3"]
    assert all(" ok, test accuracy " in line and " on tcp://" in line for line in progress)

    # Timings from one-thread cluster workers are not ranked silently beside in-process ones.
    assert "Timed on" not in main_table(aggregate(remote), "digits")
    mixed = aggregate([*local, *remote])
    assert "Timed on" in main_table(mixed, "digits")
    assert "1 thread(s) per run" in main_table(mixed, "digits")
    assert "Timings from 2 different hosts" in hosts_note(mixed, "digits")[0]


def _worker_running(client, run: RunSpec, exclude: set[str]) -> str:
    """Wait until a worker not in ``exclude`` has ``run``'s task; return its address."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if address not in exclude and any(run.run_id in str(key) for key in keys):
                return address
        time.sleep(0.02)
    raise AssertionError(f"{run.label} seed {run.seed} never started on a new worker")


def _kill_worker(client, address: str) -> set[str]:
    """SIGKILL the worker process at ``address``; return the run ids it held."""
    held = {str(key) for key in client.processing().get(address, [])}
    pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    return held


@pytest.mark.slow
def test_killed_workers_retry_once_then_record_failure(client, tmp_path: Path) -> None:
    # Both MLP runs start first, one per worker. Killing the victim's worker sends the victim
    # to the other worker, behind the second MLP run; killing that worker too fails the
    # victim (its second dead worker) and costs the second MLP run its one retry.
    runs = sweep("mlp:small") + sweep("knn")
    victim, retried = runs[0], runs[1]
    results = tmp_path / "results"
    lines: list[str] = []
    killed: set[str] = set()
    held: set[str] = set()
    with ThreadPoolExecutor(max_workers=1) as pool:
        sweep_done = pool.submit(run_on_client, client, runs, results, lines.append)
        for _ in range(2):
            address = _worker_running(client, victim, killed)
            held |= _kill_worker(client, address)
            killed.add(address)
        records = sweep_done.result(timeout=WAIT_SECONDS)

    assert len(records) == len(runs), "every run is recorded"
    assert sorted(r.run_id for r in records) == sorted(r.run_id for r in runs), "once each"
    on_disk = load_records(results)
    assert sorted(r.run_id for r in on_disk) == sorted(r.run_id for r in runs)
    by_id = {record.run_id: record for record in on_disk}

    lost = by_id[victim.run_id]
    assert not lost.ok
    assert lost.error.type == "KilledWorker"
    assert "2 different workers" in lost.error.message
    assert lost.executor["worker"] in killed
    assert f"{victim.label}: FAILED: KilledWorker" in "\n".join(lines)

    for record in on_disk:
        if record.run_id == victim.run_id:
            continue
        assert record.ok, record.error
        assert record.executor["worker"] not in killed
    assert any(retried.run_id in key for key in held), "a run lost a worker and was retried"


def test_a_task_that_raises_is_retried_then_recorded(client, tmp_path: Path) -> None:
    good = sweep("logreg")[0]
    bad = RunSpec(model="logreg", preset="default", dataset="no_such_dataset", seed=0)
    records = run_on_client(client, [bad, good], tmp_path, say=lambda _line: None)
    by_id = {record.run_id: record for record in records}
    assert by_id[good.run_id].ok
    failed = by_id[bad.run_id]
    assert not failed.ok
    assert failed.error.type == "BenchError"
    assert "unknown dataset 'no_such_dataset'" in failed.error.message
    assert len(load_records(tmp_path)) == 2


def test_cli_sends_runs_to_a_scheduler(client, tmp_path: Path, capsys) -> None:
    results = tmp_path / "results"
    address = client.scheduler.address
    argv = ["run", "--model", "mlp:small", "--set", "epochs=1", "--dataset", "digits"]
    code = main([*argv, "--repeats", "2", "--scheduler", address, "--results-dir", str(results)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"Dask cluster at {address}: 2 training slot(s)" in out
    assert "2 ok, 0 failed" in out
    assert sorted(r.seed for r in load_records(results)) == [0, 1]
    assert (results / "LEADERBOARD.md").is_file()


def test_cli_rejects_a_scheduler_for_the_local_executor(tmp_path: Path, capsys) -> None:
    argv = ["run", "--model", "logreg", "--dataset", "digits", "--executor", "local"]
    assert main([*argv, "--scheduler", "tcp://127.0.0.1:1", "--results-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "--scheduler sends runs to a Dask cluster" in captured.err
    assert "run(s):" not in captured.out, "refused before the run list is printed"


def test_a_scheduler_address_that_is_not_one_is_refused(tmp_path: Path, capsys) -> None:
    argv = ["run", "--model", "logreg", "--dataset", "digits", "--scheduler", "not an address"]
    assert main([*argv, "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not an address; write it as tcp://HOST:PORT" in err and "Traceback" not in err


def test_a_listener_that_never_answers_fails_within_the_timeout() -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        with (
            pytest.raises(BenchError, match="did not answer within 2s"),
            remote_client(address, timeout=2),
        ):
            pass
        elapsed = time.monotonic() - start
    assert elapsed < 2 + 5 + 3, f"gave up after {elapsed:.1f}s"


def test_workers_without_the_train_resource_are_refused(tmp_path: Path) -> None:
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as bare,
        distributed.Client(bare) as bare_client,
        pytest.raises(BenchError, match="--resources train=1"),
    ):
        run_on_client(bare_client, sweep("logreg"), tmp_path, say=lambda _line: None)


def test_missing_dask_is_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(BenchError, match=r"pip install 'mnist-bench\[dask\]'"):
        run_on_dask(sweep("logreg"), tmp_path, say=lambda _line: None)


def test_dask_sampling_leaves_the_seeded_global_random_alone() -> None:
    from dask.sizeof import sizeof

    _keep_dask_off_global_random()
    random.seed(3)
    sizeof(list(range(1000)))  # samples 10 of the items to estimate the size
    assert random.random() == random.Random(3).random()
