"""The report's run frame and the export's runs table read a record one way: the same train
clock, memory, probe, test count and backend for every record, older layouts included."""

from __future__ import annotations

import dataclasses

import numpy as np
from synthetic_records import make_record, speed_timings

from bench.results.export.flatten import runs_frame
from bench.results.report.aggregate import run_frame

LABELS = np.arange(200) % 10
PREDICTIONS = np.where(np.arange(200) % 9 == 0, (LABELS + 1) % 10, LABELS)


def _records():
    current = speed_timings(12.0, 4000.0, 150.0)
    current["memory"] = {"peak_rss_mb": 900.0}
    current["phases"] = {"train": 12.5, "evaluate": 0.4}
    older = {  # before clocks, memory and the load probe had their own entries
        "training": {"train_seconds": 30.0, "samples_per_s": 1500.0},
        "fit_seconds": 33.0,
        "peak_rss_mb": 700.0,
        "peak": {"gflops": 120.0},
        "inference": {"samples_per_s": 20000.0, "repeats": 3},
        "latency": {"median_ms": 0.7, "p99_ms": 1.2, "n": 200},
    }
    return [
        dataclasses.replace(
            make_record("mlp", 0, LABELS, PREDICTIONS, timings=current, backend="jax"),
            family="keras",
        ),
        make_record("logreg", 0, LABELS, PREDICTIONS, timings=older),
    ]


def test_report_and_export_read_each_record_the_same_way():
    records = _records()
    report = run_frame(records).set_index("run_id")
    export = runs_frame(records).set_index("run_id")
    same = {
        "train_seconds": "train_seconds",
        "wall_seconds": "wall_seconds",
        "peak_rss_mb": "peak_rss_mb",
        "peak_gflops": "load_probe_gflops",
        "n_test": "n_test",
        "backend": "runs_on",
        "inference_passes": "inference_passes",
        "latency_calls": "latency_calls",
        "deterministic": "seed_independent",
    }
    for run_id in report.index:
        for report_column, export_column in same.items():
            assert report.loc[run_id, report_column] == export.loc[run_id, export_column], (
                run_id,
                report_column,
            )
    mlp, logreg = (report.loc[r.run_id] for r in records)
    assert (mlp["train_seconds"], mlp["peak_rss_mb"], mlp["peak_gflops"]) == (12.0, 900.0, 150.0)
    assert (mlp["backend"], logreg["backend"]) == ("jax", "scikit-learn")
    assert mlp["phases"] == {"train": 12.5, "evaluate": 0.4}
    assert (logreg["train_seconds"], logreg["wall_seconds"]) == (30.0, 33.0)
    assert (logreg["peak_rss_mb"], logreg["peak_gflops"]) == (700.0, 120.0)
    assert mlp["n_test"] == logreg["n_test"] == 200
    assert mlp["n_correct"] == int((PREDICTIONS == LABELS).sum())
