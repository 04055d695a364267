"""Metrics checked against confusion cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.measure.metrics import classification_metrics, label_metrics


def test_hand_made_three_class_case():
    # true:  0 0 0 1 1 2 ; pred: 0 0 1 1 2 2
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 1, 1, 2, 2])
    m = classification_metrics(y_true, y_pred, num_classes=3)
    scores = label_metrics(y_true, y_pred, num_classes=3)
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert "accuracy" not in m, "the scalar metrics come from the registry, once"
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # precision: class0 2/2, class1 1/2, class2 1/2 ; recall: 2/3, 1/2, 1/1
    assert m["per_class"]["precision"] == pytest.approx([1.0, 0.5, 0.5])
    assert m["per_class"]["recall"] == pytest.approx([2 / 3, 0.5, 1.0])
    f1 = [2 * p * r / (p + r) for p, r in [(1, 2 / 3), (0.5, 0.5), (0.5, 1.0)]]
    assert m["per_class"]["f1"] == pytest.approx(f1)
    assert scores["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert set(scores) == {"accuracy", "macro_f1"}, "only the metrics that need no probabilities"
    assert m["per_class"]["support"] == [3, 2, 1]


def test_absent_class_gets_a_zero_row_not_a_crash():
    m = classification_metrics(np.array([0, 1]), np.array([0, 1]), num_classes=4)
    assert len(m["confusion_matrix"]) == 4
    assert m["per_class"]["precision"] == [1.0, 1.0, 0.0, 0.0]
    assert label_metrics(np.array([0, 1]), np.array([0, 1]), num_classes=4)["accuracy"] == 1.0


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="differ in shape"):
        classification_metrics(np.array([0, 1]), np.array([0]), num_classes=2)


def test_the_best_model_on_a_metric_follows_its_declared_direction():
    from bench.results.report.frames_recommend import best_on

    frame = pd.DataFrame({"model": ["a", "b", "c"], "ece": [0.05, 0.01, 0.01]})
    frame["accuracy"] = [0.9, 0.95, 0.97]
    assert best_on(frame, "ece")["model"] == "b", "lower ECE is better; ties by name"
    assert best_on(frame, "accuracy")["model"] == "c", "higher accuracy is better"
