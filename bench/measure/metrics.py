"""Classification quality metrics; scikit-learn does the arithmetic."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int
) -> dict[str, Any]:
    """Return accuracy, macro F1, per-class precision/recall/F1/support and the confusion matrix.

    Every class in ``range(num_classes)`` gets a row even when absent from the data (its scores
    are then 0), so tables from different runs line up.

    Example
    -------
    >>> m = classification_metrics(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=2)
    >>> round(m["accuracy"], 3), m["confusion_matrix"]
    (0.667, [[1, 0], [1, 1]])
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    labels = list(range(num_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "per_class": {
            "precision": [float(v) for v in precision],
            "recall": [float(v) for v in recall],
            "f1": [float(v) for v in f1],
            "support": [int(v) for v in support],
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "n_test": int(len(y_true)),
    }
