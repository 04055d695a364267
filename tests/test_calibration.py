"""Calibration metrics: hand-worked cases, scikit-learn's numbers on a real model, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sklearn_log_loss

from bench.core.errors import BenchError
from bench.measure.calibration import (
    EPS,
    ReliabilityBins,
    brier_score,
    calibration_metrics,
    check_probabilities,
    expected_calibration_error,
    log_loss,
    reliability_bins,
)


@pytest.fixture(scope="module")
def digits_proba():
    """Test-set probabilities of a real, strongly regularised logistic regression."""
    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    train, test = order[:1000], order[1000:]
    model = LogisticRegression(C=0.1, max_iter=1000).fit(x[train] / 16, y[train])
    return model.predict_proba(x[test] / 16), y[test]


def test_hand_worked_three_class_case():
    proba = np.array(
        [
            [0.7, 0.2, 0.1],  # right, confidence 0.7
            [0.1, 0.3, 0.6],  # wrong (label 1), confidence 0.6
            [0.2, 0.5, 0.3],  # right, confidence 0.5
            [0.05, 0.05, 0.9],  # right, confidence 0.9
        ]
    )
    labels = np.array([0, 1, 1, 2])
    assert log_loss(proba, labels) == pytest.approx(
        -(math.log(0.7) + math.log(0.3) + math.log(0.5) + math.log(0.9)) / 4
    )
    squared = [
        0.3**2 + 0.2**2 + 0.1**2,
        0.1**2 + 0.7**2 + 0.6**2,
        0.2**2 + 0.5**2 + 0.3**2,
        0.05**2 + 0.05**2 + 0.1**2,
    ]
    assert brier_score(proba, labels) == pytest.approx(np.mean(squared))
    # 5 bins of width 0.2: 0.5 and 0.6 fall in (0.4, 0.6] (0.6 closes it), 0.7 in (0.6, 0.8],
    # 0.9 in (0.8, 1.0]
    bins = reliability_bins(proba, labels, n_bins=5)
    assert bins.counts.tolist() == [0, 0, 2, 1, 1]
    assert bins.accuracy[2:].tolist() == pytest.approx([0.5, 1.0, 1.0])
    assert bins.confidence[2:].tolist() == pytest.approx([0.55, 0.7, 0.9])
    assert np.isnan(bins.accuracy[:2]).all() and np.isnan(bins.confidence[:2]).all()
    expected = (2 * abs(0.5 - 0.55) + abs(1 - 0.7) + abs(1 - 0.9)) / 4
    assert expected_calibration_error(proba, labels, n_bins=5) == pytest.approx(expected)
    assert calibration_metrics(proba, labels, n_bins=5) == pytest.approx(
        {
            "log_loss": log_loss(proba, labels),
            "brier_score": np.mean(squared),
            "ece": expected,
            "ece_bins": 5,
        }
    )


def test_perfect_and_worst_predictions():
    labels = np.array([0, 1, 2])
    one_hot = np.eye(3)[labels]
    assert brier_score(one_hot, labels) == 0.0
    assert expected_calibration_error(one_hot, labels) == 0.0
    assert log_loss(one_hot, labels) == pytest.approx(-math.log(1 - EPS))
    wrong = np.eye(3)[(labels + 1) % 3]
    assert brier_score(wrong, labels) == 2.0
    assert expected_calibration_error(wrong, labels) == 1.0
    # the true class's 0 is clipped to float64 epsilon, as scikit-learn does: about 36 nats
    assert log_loss(wrong, labels) == pytest.approx(-math.log(EPS))
    assert log_loss(wrong, labels) == pytest.approx(sklearn_log_loss(labels, wrong))


def test_agrees_with_scikit_learn_on_a_real_model(digits_proba):
    proba, labels = digits_proba
    assert proba.shape == (797, 10)
    ours = calibration_metrics(proba, labels)
    assert ours["log_loss"] == pytest.approx(sklearn_log_loss(labels, proba), rel=1e-12)
    # scikit-learn >= 1.7 takes multiclass input and does not halve it for K >= 3 classes
    assert ours["brier_score"] == pytest.approx(
        brier_score_loss(labels, proba, labels=list(range(10))), rel=1e-12
    )
    # a strongly regularised linear model is under-confident: right more often than it says
    assert 0.15 < ours["ece"] < 0.35
    accuracy = np.mean(proba.argmax(axis=1) == labels)
    assert accuracy - proba.max(axis=1).mean() > 0.15
    assert ours["ece_bins"] == 15


def test_binary_brier_is_twice_scikit_learns_default(digits_proba):
    proba, labels = digits_proba
    is_three = (labels == 3).astype(int)
    p3 = proba[:, 3] / proba.sum(axis=1)
    binary = np.column_stack([1 - p3, p3])
    # for two classes scikit-learn halves the score by default (the classic binary Brier)
    assert brier_score(binary, is_three) == pytest.approx(
        2 * brier_score_loss(is_three, p3), rel=1e-12
    )
    assert brier_score(binary, is_three) == pytest.approx(
        brier_score_loss(is_three, p3, scale_by_half=False), rel=1e-12
    )
    assert brier_score(binary, is_three) == pytest.approx(2 * np.mean((p3 - is_three) ** 2))
    assert log_loss(binary, is_three) == pytest.approx(sklearn_log_loss(is_three, p3))


def test_reliability_bins_match_scikit_learns_calibration_curve(digits_proba):
    proba, labels = digits_proba
    bins = reliability_bins(proba, labels, n_bins=10)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == labels).astype(int)
    # no confidence sits exactly on an edge here, so left- and right-closed bins agree
    assert not np.isin(confidence, np.arange(11) / 10).any()
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=10)
    full = bins.counts > 0
    assert bins.accuracy[full] == pytest.approx(accuracy, rel=1e-12)
    assert bins.confidence[full] == pytest.approx(mean_confidence, rel=1e-12)
    assert bins.n_images == len(labels)
    assert bins.ece == pytest.approx(
        np.sum(bins.counts[full] * np.abs(accuracy - mean_confidence)) / len(labels)
    )


def simulated(confidence, accuracy, rng, k=10):
    """Rows whose largest probability is ``confidence`` and right with chance ``accuracy``."""
    n = len(confidence)
    labels = rng.integers(0, k, n)
    predicted = np.where(rng.random(n) < accuracy, labels, (labels + 1) % k)
    proba = np.zeros((n, k))
    proba[np.arange(n), predicted] = confidence
    proba[np.arange(n), (predicted + 1 + rng.integers(0, k - 1, n)) % k] = 1 - confidence
    return proba, labels


def test_ece_measures_a_known_miscalibration():
    rng = np.random.default_rng(3)
    confidence = rng.uniform(0.55, 0.99, 200_000)
    calibrated = simulated(confidence, confidence, rng)
    assert expected_calibration_error(*calibrated) < 0.005, "only sampling noise is left"
    over = simulated(confidence, confidence - 0.1, rng)
    assert expected_calibration_error(*over) == pytest.approx(0.1, abs=0.005)
    bins = reliability_bins(*over)
    full = bins.counts > 0
    assert (bins.confidence[full] - bins.accuracy[full]) == pytest.approx(0.1, abs=0.02)
    # ECE sees only top-label confidence; log-loss and Brier also grow with the miscalibration
    assert log_loss(*over) > log_loss(*calibrated)
    assert brier_score(*over) > brier_score(*calibrated)


def test_float16_rows_are_renormalised(digits_proba):
    proba, labels = digits_proba
    half = proba.astype(np.float16)
    assert np.abs(half.astype(np.float64).sum(axis=1) - 1).max() > 1e-5, "float16 drifts"
    renormalised = half.astype(np.float64)
    renormalised /= renormalised.sum(axis=1, keepdims=True)
    checked, _ = check_probabilities(half, labels)
    assert checked.dtype == np.float64
    assert np.abs(checked.sum(axis=1) - 1).max() < 1e-12
    ours = calibration_metrics(half, labels)
    assert ours["log_loss"] == pytest.approx(sklearn_log_loss(labels, renormalised), rel=1e-12)
    assert ours["brier_score"] == pytest.approx(
        brier_score_loss(labels, renormalised, labels=list(range(10))), rel=1e-12
    )
    # storage rounding moves the metrics by far less than their meaningful digits
    exact = calibration_metrics(proba, labels)
    assert ours["log_loss"] == pytest.approx(exact["log_loss"], abs=1e-3)
    assert ours["ece"] == pytest.approx(exact["ece"], abs=1e-3)


def test_bins_round_trip_through_json_lists(digits_proba):
    bins = reliability_bins(*digits_proba)
    data = bins.to_dict()
    assert len(data["edges"]) == 16 and len(data["counts"]) == 15
    assert None in data["accuracy"], "a logistic model leaves low-confidence bins empty"
    back = ReliabilityBins.from_dict(data)
    assert back.counts.tolist() == bins.counts.tolist()
    np.testing.assert_array_equal(back.accuracy, bins.accuracy)
    assert back.ece == bins.ece


@pytest.mark.parametrize(
    ("proba", "labels", "message"),
    [
        ([[0.5, 0.5], [np.nan, 1.0], [0.2, 0.8]], [0, 1, 1], "row 1 holds NaN or inf"),
        ([[0.5, 0.5], [0.2, 0.8], [np.inf, 0.0]], [0, 1, 1], "row 2 holds NaN or inf"),
        ([[1.2, -0.2], [0.2, 0.8]], [0, 1], "row 0 holds a negative value"),
        ([[2.0, -1.0, 0.5], [0.1, 0.2, 0.7]], [0, 1], "row 0 holds a negative"),
        ([[3.1, 0.2], [0.2, 0.8]], [0, 1], "not logits"),
        ([[0.0, 0.0], [0.2, 0.8]], [0, 1], "row 0 sums to a value more than 0.01 away"),
        ([[0.5, 0.5]], [2], "label 2 of image 0 is not a class index 0..1"),
        ([[0.5, 0.5]], [0, 1], "one label per row"),
        ([0.5, 0.5], [0], "2-D array"),
        (np.zeros((0, 3)), [], "at least one image"),
        ([[0.5, 0.5]], [0.5], "class indices"),
    ],
)
def test_bad_input_is_refused_with_the_fix(proba, labels, message):
    with pytest.raises(BenchError, match=message):
        calibration_metrics(np.asarray(proba), np.asarray(labels))


def test_bad_bin_count_is_refused():
    with pytest.raises(BenchError, match="n_bins must be a positive integer"):
        reliability_bins([[0.5, 0.5]], [0], n_bins=0)
