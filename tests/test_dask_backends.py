"""Keras backends on Dask: each worker serves one backend, each Keras run goes to its backend."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

distributed = pytest.importorskip(
    "distributed", reason="the Dask executor needs dask[distributed] (pip install '.[dask]')"
)

from bench.core.errors import BenchError  # noqa: E402
from bench.results.store.files import load_records  # noqa: E402
from bench.run.executors.dask import (  # noqa: E402
    local_client,
    run_on_client,
    run_resources,
    worker_backends,
)
from bench.run.selection import build_runs  # noqa: E402


def test_keras_runs_ask_for_a_worker_of_their_backend_and_others_do_not():
    runs = build_runs(["mlp:small", "logreg"], ["digits"], [0], backends=["tensorflow", "jax"])
    asked = {(r.model, r.backend): run_resources(r) for r in runs}
    assert asked == {
        ("mlp", "tensorflow"): {"train": 1, "backend-tensorflow": 1},
        ("mlp", "jax"): {"train": 1, "backend-jax": 1},
        ("logreg", "tensorflow"): {"train": 1},
    }
    assert worker_backends(2, ["tensorflow"]) == ["tensorflow", "tensorflow"]
    assert worker_backends(2, ["jax", "tensorflow", "torch"]) == ["jax", "tensorflow", "torch"]
    assert worker_backends(4, ["jax", "tensorflow"]) == ["jax", "tensorflow", "jax", "tensorflow"]


def test_a_cluster_without_workers_of_a_backend_is_refused(tmp_path: Path) -> None:
    runs = build_runs(["mlp:small", "logreg"], ["digits"], [0], backends=["jax"])
    with (
        distributed.LocalCluster(
            n_workers=1, processes=False, resources={"train": 1}, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
        pytest.raises(BenchError) as caught,
    ):
        run_on_client(client, runs, tmp_path, say=lambda _line: None)
    message = str(caught.value)
    assert "no worker of the Dask cluster" in message
    assert "serves the Keras backend 'jax'" in message
    assert "KERAS_BACKEND=jax dask worker" in message
    assert "--resources train=1,backend-jax=1" in message
    assert not load_records(tmp_path), "nothing was trained"


@pytest.mark.slow
@pytest.mark.skipif(not importlib.util.find_spec("jax"), reason="needs jax (pip install '.[jax]')")
def test_a_local_cluster_serves_each_backend_from_its_own_workers(tmp_path: Path) -> None:
    runs = build_runs(["mlp:small", "logreg"], ["digits"], [0], backends=["tensorflow", "jax"])
    with local_client(n_workers=1, backends=["jax", "tensorflow"]) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        serving = {
            address: [name for name in info["resources"] if name.startswith("backend-")]
            for address, info in workers.items()
        }
        records = run_on_client(client, runs, tmp_path, say=lambda _line: None)
    assert sorted(map(sorted, serving.values())) == [["backend-jax"], ["backend-tensorflow"]]
    by_run = {(r.model, r.run.backend): r for r in records}
    assert set(by_run) == {("mlp", "tensorflow"), ("mlp", "jax"), ("logreg", "tensorflow")}
    for (model, backend), record in by_run.items():
        assert record.ok, record.error
        assert record.accuracy > 0.8, f"{model} on {backend}: far above chance"
        if model == "mlp":
            assert record.environment["framework"]["backend"] == backend
            assert serving[record.executor["worker"]] == [f"backend-{backend}"]
    assert len(load_records(tmp_path)) == 3
