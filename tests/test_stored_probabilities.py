"""Stored probabilities recompute the record's log-loss, ECE, Brier and predictions exactly."""

from __future__ import annotations

import numpy as np

from bench.data import load_dataset
from bench.measure import calibration
from bench.results.store.files import read_probabilities, write_record
from bench.run.selection import build_runs
from bench.run.trainer import execute_run


def test_metrics_recompute_exactly_from_the_probability_file(tmp_path, sgd_model):
    digits = load_dataset("digits")
    (run,) = build_runs([sgd_model], ["digits"], [0])
    record = execute_run(run, digits)
    assert record.ok
    write_record(tmp_path, record)
    assert record.probabilities["dtype"] == "float32"
    stored = read_probabilities(tmp_path, record)["test"]
    labels = np.asarray(record.test_labels)
    assert stored.dtype == np.float32
    assert calibration.log_loss(stored, labels) == record.metrics["log_loss"]
    assert calibration.expected_calibration_error(stored, labels) == record.metrics["ece"]
    assert stored.argmax(axis=1).tolist() == record.predictions
    # float16, the old format, did not: true-class probabilities rounded away
    half = stored.astype(np.float16)
    assert calibration.log_loss(half, labels) != record.metrics["log_loss"]
