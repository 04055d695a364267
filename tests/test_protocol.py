"""The protocol: training and every choice see the validation split; the test set is predicted
once, after training."""

from __future__ import annotations

import dataclasses

import numpy as np

from bench.data import load_dataset
from bench.data.split import index_hash, validation_split
from bench.run.selection import build_runs
from bench.run.trainer import execute_run


def untimed(entries: list[dict]) -> list[dict]:
    """History entries without their clock readings."""
    return [{k: v for k, v in entry.items() if "seconds" not in k} for entry in entries]


def test_no_test_label_reaches_training_or_validation(sgd_model):
    digits = load_dataset("digits")
    shuffled = dataclasses.replace(digits, y_test=np.roll(digits.y_test, 7))
    (run,) = build_runs(["sgd_probe"], ["digits"], [3])
    honest, tampered = execute_run(run, digits), execute_run(run, shuffled)
    assert honest.ok and tampered.ok
    assert untimed(honest.history) == untimed(tampered.history), "the same training curve"
    assert [c["val_accuracy"] for c in honest.checks] == [
        c["val_accuracy"] for c in tampered.checks
    ]
    assert honest.predictions == tampered.predictions, "the same trained model"
    assert honest.accuracy != tampered.accuracy, "only the final test metrics change"


def test_the_validation_split_is_fixed_stratified_and_recorded(sgd_model):
    digits = load_dataset("digits")
    first = validation_split(digits.x_train, digits.y_train, 0.1)
    again = validation_split(digits.x_train, digits.y_train, 0.1)
    assert index_hash(first.val_index) == index_hash(again.val_index)
    assert len(first.y_val) == round(0.1 * len(digits.y_train))
    shares = np.bincount(first.y_val, minlength=10) / len(first.y_val)
    overall = np.bincount(digits.y_train, minlength=10) / len(digits.y_train)
    assert np.abs(shares - overall).max() < 0.02, "every class in proportion"
    (run_a,) = build_runs(["sgd_probe"], ["digits"], [0])
    (run_b,) = build_runs(["sgd_probe"], ["digits"], [1])
    a, b = execute_run(run_a, digits), execute_run(run_b, digits)
    assert a.dataset_info["validation"] == b.dataset_info["validation"], "one split for all"
    assert a.dataset_info["validation"]["index_sha256"] == index_hash(first.val_index)
    assert a.n_train + a.n_val == len(digits.y_train)
    assert a.dataset_info["protocol"] == "holdout"


def test_the_tutorial_preset_validates_on_the_test_set_and_says_so():
    (run,) = build_runs(["article_cnn:tutorial"], ["mnist"], [0])
    assert run.config["validate_on"] == "test"
    (race,) = build_runs(["article_cnn"], ["mnist"], [0])
    assert race.config["validate_on"] == "holdout"
