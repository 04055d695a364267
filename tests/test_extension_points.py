"""Adding a model, a dataset, a metric or an executor is one registration and nothing else."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import architectures
from bench.cli import main
from bench.measure.metrics import METRICS, register_metric
from bench.models.registry import REGISTRY
from bench.results.store.files import load_records, write_record
from bench.run.executors import EXECUTORS, register_executor
from bench.run.trainer import execute_run

DROPPED_IN = '''
"""A model file dropped into the architectures package."""

from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


@register_model(family="sklearn", preprocess=flatten_and_scale, config={"k": 3},
                deterministic=True, tuning="a test model")
def dropped_in_knn(config, input_shape, num_classes):
    """k-nearest neighbours dropped in as a file."""
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=config["k"])
'''


@pytest.fixture
def architectures_copy(tmp_path, monkeypatch):
    """A copy of the architectures package, with one new file, imported instead of ours."""
    copy = tmp_path / "pkg" / "architectures"
    shutil.copytree(Path(architectures.__file__).parent, copy)
    (copy / "dropped_in.py").write_text(DROPPED_IN)
    saved = {
        name: module for name, module in sys.modules.items() if name.startswith("architectures")
    }
    for name in saved:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(copy.parent))
    monkeypatch.setattr(REGISTRY, "_entries", {})
    monkeypatch.setattr(REGISTRY, "_loaded", False)
    yield copy
    for name in [n for n in sys.modules if n.startswith("architectures")]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_a_file_dropped_into_architectures_is_listed_run_and_reported(
    architectures_copy, tmp_path, capsys
):
    assert main(["list", "--results-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "dropped_in_knn" in listing and "k-nearest neighbours dropped in" in listing
    assert "article_cnn" in listing, "the other built-in files are still found"

    results = tmp_path / "results"
    argv = ["run", "--model", "dropped_in_knn", "--dataset", "digits", "--results-dir"]
    assert main([*argv, str(results)]) == 0
    (record,) = load_records(results)
    assert record.model == "dropped_in_knn" and record.accuracy > 0.9
    assert record.model_info["deterministic"] is True
    assert "dropped_in_knn" in (results / "RUNS.md").read_text()


def test_a_registered_metric_is_computed_for_every_run(tmp_path, sgd_model):
    @register_metric(
        "error_rate",
        title="Error",
        higher_is_better=False,
        fmt="{:.2%}",
        needs=("labels", "predictions"),
    )
    def error_rate(labels, predictions, probabilities):
        return float(np.mean(labels != predictions))

    try:
        results = tmp_path / "results"
        argv = ["run", "--model", "sgd_probe", "--dataset", "digits", "--results-dir"]
        assert main([*argv, str(results)]) == 0
        (record,) = load_records(results)
        assert record.metrics["error_rate"] == pytest.approx(1 - record.accuracy)
        assert "| Error " in (results / "RUNS.md").read_text()
        assert '<th scope="col">Error</th>' in (results / "index.html").read_text()
    finally:
        METRICS.remove("error_rate")


def test_a_registered_executor_runs_the_sweep(tmp_path, sgd_model, capsys):
    seen = []

    @register_executor("inline_test")
    def inline(runs, results_dir, say=print, scheduler=None, on_record=None):
        records = []
        for run in runs:
            seen.append(run.run_id)
            record = execute_run(run)
            path = write_record(results_dir, record)
            if on_record is not None:
                on_record(record, path)
            records.append(record)
        return records

    try:
        results = tmp_path / "results"
        argv = ["run", "--model", "sgd_probe", "--dataset", "digits", "--repeats", "2"]
        assert main([*argv, "--executor", "inline_test", "--results-dir", str(results)]) == 0
    finally:
        EXECUTORS.remove("inline_test")
    assert len(seen) == 2
    assert sorted(r.run_id for r in load_records(results)) == sorted(seen)
