"""bench tune --track mlflow: the study is a parent run, each trial a child run with its
params, its validation curve and whether it was pruned (a local SQLite store, read back)."""

from __future__ import annotations

import pytest

pytest.importorskip("optuna", reason="pip install 'mnist-bench[tune]'")
pytest.importorskip("mlflow", reason="pip install 'mnist-bench[mlflow]'")

from mlflow.tracking import MlflowClient  # noqa: E402

from bench.cli import main  # noqa: E402
from bench.tune.tracking import EXPERIMENT  # noqa: E402


def test_a_study_is_a_parent_run_with_one_child_run_per_trial(tmp_path):
    results = tmp_path / "results"
    argv = ["tune", "--model", "logreg", "--dataset", "digits", "--trials", "3"]
    argv += ["--trial-budget", "5", "--sampler", "random", "--track", "mlflow"]
    assert main([*argv, "--results-dir", str(results)]) == 0
    client = MlflowClient(tracking_uri=f"sqlite:///{(results / 'mlflow' / 'mlflow.db').resolve()}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("bench.kind") == "study"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 3
    assert parent.data.params["trials"] == "3" and parent.data.params["sampler"] == "random"
    best = max(c.data.metrics["val_accuracy"] for c in children)
    assert parent.data.metrics["best_val_accuracy"] == pytest.approx(best)
    for child in children:
        assert set(child.data.params) == {"C", "tol"}
        assert child.data.tags["bench.pruned"] == "false"
        assert child.data.tags["bench.trial_state"] == "COMPLETE"
        curve = client.get_metric_history(child.info.run_id, "val_accuracy_check")
        assert curve and curve[-1].value == pytest.approx(child.data.metrics["val_accuracy"])
        assert child.info.status == "FINISHED"
