"""bench tune on a real Dask deployment started from the command line (`dask scheduler` and two
`dask worker` processes): the trials of a study train on the workers, two at a time."""

from __future__ import annotations

import pytest

pytest.importorskip("optuna", reason="pip install 'mnist-bench[tune]'")
pytest.importorskip("distributed", reason="needs dask[distributed] (pip install '.[dask]')")

import optuna  # noqa: E402
from test_dask_cli import cluster  # noqa: E402, F401  (the CLI-started cluster fixture)

from bench.cli import main  # noqa: E402
from bench.results.store.files import load_records  # noqa: E402
from bench.results.store.tuned import preset_path  # noqa: E402
from bench.tune.study import storage_url  # noqa: E402


@pytest.mark.slow
def test_a_study_runs_on_a_cli_started_cluster(cluster, tmp_path, capsys):  # noqa: F811
    from distributed import Client

    address, _ = cluster
    with Client(address, timeout="60s") as client:  # both workers in: batches of two
        client.wait_for_workers(2, timeout=120)
    results = tmp_path / "results"
    argv = ["tune", "--model", "knn", "--dataset", "digits", "--trials", "4"]
    argv += ["--trial-budget", "5", "--executor", "dask", "--scheduler", address]
    assert main([*argv, "--results-dir", str(results)]) == 0, capsys.readouterr().out
    assert "4 trials, 2 at a time" in capsys.readouterr().out
    study = optuna.load_study(study_name="digits--knn--search0", storage=storage_url(results))
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    records = load_records(results / "tuning" / "digits" / "knn")
    assert len(records) == 4
    assert all(r.executor["name"] == "dask" and r.run.tuning for r in records)
    assert preset_path(results, "digits", "knn").is_file()
