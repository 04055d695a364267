"""Corruption error arithmetic on hand-made cases, and scoring a real small model on corrupted
digits (scikit-learn's 8x8 set)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.core.errors import BenchError
from bench.data import load_dataset
from bench.data.corruptions import corrupt
from bench.measure.robustness_eval import evaluate_corruptions, stratified_subset
from bench.results.report.robustness import (
    mean_corruption_accuracy,
    relative_corruption_error,
    relative_mce,
)

# --------------------------------------------------------------------------- arithmetic


def test_corruption_error_is_the_error_ratio_and_mce_its_mean():
    model = {"fog": 0.05, "zigzag": 0.40, "stripe": 0.12}
    baseline = {"fog": 0.10, "zigzag": 0.20, "stripe": 0.48, "scale": 0.3}
    per, mce = relative_corruption_error(model, baseline)
    assert per == pytest.approx({"fog": 0.5, "zigzag": 2.0, "stripe": 0.25})
    assert list(per) == ["fog", "zigzag", "stripe"], "the model's corruptions, in its order"
    assert mce == pytest.approx((0.5 + 2.0 + 0.25) / 3)
    same, one = relative_corruption_error(baseline, baseline)
    assert one == 1.0 and set(same.values()) == {1.0}


def test_a_baseline_without_errors_or_without_the_corruption_is_refused():
    with pytest.raises(BenchError, match="makes no errors on zigzag"):
        relative_corruption_error({"fog": 0.1, "zigzag": 0.1}, {"fog": 0.2, "zigzag": 0.0})
    with pytest.raises(BenchError, match="no error for zigzag"):
        relative_corruption_error({"fog": 0.1, "zigzag": 0.1}, {"fog": 0.2})
    with pytest.raises(BenchError, match=r"fraction in \[0, 1\]; got fog=12.0"):
        relative_corruption_error({"fog": 12.0}, {"fog": 0.2})
    with pytest.raises(BenchError, match="no corruptions given"):
        relative_corruption_error({}, {"fog": 0.2})


def test_relative_mce_divides_the_drops_from_clean():
    model = {"fog": 0.06, "zigzag": 0.11}
    baseline = {"fog": 0.20, "zigzag": 0.50}
    per, mean = relative_mce(model, 0.01, baseline, 0.10)
    assert per == pytest.approx({"fog": 0.05 / 0.10, "zigzag": 0.10 / 0.40})
    assert mean == pytest.approx(0.375)
    with pytest.raises(BenchError, match="equals its clean error"):
        relative_mce(model, 0.01, {"fog": 0.1, "zigzag": 0.5}, 0.1)


def test_mean_corruption_accuracy():
    accuracies = {"fog": 0.9, "zigzag": 0.6, "stripe": 0.6, "scale": 0.98}
    assert mean_corruption_accuracy(accuracies) == pytest.approx(0.77)
    with pytest.raises(BenchError, match="no corruptions given"):
        mean_corruption_accuracy({})


# --------------------------------------------------------------------------- scoring a model


def test_stratified_subset_keeps_class_shares_and_is_fixed():
    labels = np.repeat(np.arange(3), [50, 30, 20])
    chosen = stratified_subset(labels, 11)
    assert len(chosen) == 11 and len(set(chosen)) == 11 and np.all(np.diff(chosen) > 0)
    # Exact shares 5.5, 3.3, 2.2: floors 5, 3, 2 and the one left over to class 0 (0.5).
    assert np.bincount(labels[chosen]).tolist() == [6, 3, 2]
    np.testing.assert_array_equal(chosen, stratified_subset(labels, 11))
    assert not np.array_equal(chosen, stratified_subset(labels, 11, seed=1))
    with pytest.raises(BenchError, match="exceeds the 100 test images"):
        stratified_subset(labels, 101)
    with pytest.raises(BenchError, match="positive integer"):
        stratified_subset(labels, 0)


@pytest.fixture(scope="module")
def digits_model():
    """Logistic regression on scikit-learn's 8x8 digits (pixels / 255), and the dataset."""
    from sklearn.linear_model import LogisticRegression

    data = load_dataset("digits")
    model = LogisticRegression(max_iter=500).fit(
        data.x_train.reshape(len(data.x_train), -1) / 255, data.y_train
    )
    return model, data


def flatten(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1) / 255.0


def test_evaluate_corruptions_scores_each_set_against_the_clean_labels(digits_model):
    model, data = digits_model
    corrupted = {name: corrupt(name, data.x_test, 0) for name in ("scale", "impulse_noise")}
    corrupted["clean"] = data.x_test
    scores = evaluate_corruptions(model.predict_proba, flatten, corrupted, data.y_test)
    assert list(scores.accuracy) == ["scale", "impulse_noise", "clean"]
    for name, images in corrupted.items():
        expected = np.mean(model.predict(flatten(images)) == data.y_test)
        assert scores.accuracy[name] == pytest.approx(expected)
        assert scores.probabilities[name].shape == (450, 10)
    assert scores.accuracy["clean"] > 0.95
    assert scores.accuracy["impulse_noise"] < scores.accuracy["clean"] - 0.05
    np.testing.assert_array_equal(scores.indices, np.arange(450))

    subset = evaluate_corruptions(model.predict_proba, flatten, corrupted, data.y_test, subset=100)
    np.testing.assert_array_equal(subset.indices, stratified_subset(data.y_test, 100))
    np.testing.assert_array_equal(subset.labels, data.y_test[subset.indices])
    full_probabilities = scores.probabilities["scale"][subset.indices]
    np.testing.assert_allclose(subset.probabilities["scale"], full_probabilities)


def test_evaluate_corruptions_refuses_misaligned_sets(digits_model):
    model, data = digits_model
    with pytest.raises(BenchError, match="has 449 images for 450 labels"):
        evaluate_corruptions(model.predict_proba, flatten, {"fog": data.x_test[1:]}, data.y_test)
    with pytest.raises(BenchError, match="expected \\(n_images, n_classes\\)"):
        evaluate_corruptions(lambda x: np.zeros(len(x)), flatten, {"fog": data.x_test}, data.y_test)
