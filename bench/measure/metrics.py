"""Quality metrics: a registry of scalar metrics, plus per-class detail. scikit-learn and
:mod:`bench.measure.calibration` do the arithmetic.

A metric is registered once with :func:`register_metric`; the trainer computes every registered
metric for every run, and the leaderboard's metric columns come from the same registry (name,
title, whether higher is better, format, how it aggregates over seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from bench.core.registry import Registry, discover
from bench.measure import calibration

Need = Literal["labels", "predictions", "probabilities"]
MetricFunction = Callable[[np.ndarray, np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class MetricSpec:
    """One scalar metric: how to compute it and how tables show and compare it.

    ``compute(labels, predictions, probabilities)`` returns a float; ``needs`` says which of
    the three it reads; ``fmt`` is a format string such as ``"{:.2%}"``; ``aggregate`` is how
    runs of several seeds combine (``"mean"`` or ``"median"``).
    """

    name: str
    title: str
    higher_is_better: bool
    fmt: str
    needs: tuple[Need, ...]
    compute: MetricFunction
    aggregate: Literal["mean", "median"] = "mean"

    def format(self, value: float | None) -> str:
        """``value`` in this metric's format (an empty cell for None)."""
        return "" if value is None else self.fmt.format(value)


METRICS: Registry[MetricSpec] = Registry("metric")
# Model files may declare metrics beside their models, and plugins may add metrics alone: the
# registry reads the same sources as the model registry, whatever was imported before it.
METRICS.add_loader(discover("architectures", "mnist_bench.architectures"))
METRICS.add_loader(discover(group="mnist_bench.metrics"))


def register_metric(
    name: str,
    *,
    title: str,
    higher_is_better: bool,
    fmt: str,
    needs: tuple[Need, ...],
    aggregate: Literal["mean", "median"] = "mean",
) -> Callable[[MetricFunction], MetricFunction]:
    """Decorator registering ``compute(labels, predictions, probabilities) -> float``.

    Example
    -------
    >>> @register_metric("error_rate", title="Error", higher_is_better=False, fmt="{:.2%}",
    ...                  needs=("labels", "predictions"))
    ... def error_rate(labels, predictions, probabilities):
    ...     return float(np.mean(labels != predictions))
    """

    def decorator(compute: MetricFunction) -> MetricFunction:
        METRICS.add(name, MetricSpec(name, title, higher_is_better, fmt, needs, compute, aggregate))
        return compute

    return decorator


@register_metric(
    "accuracy",
    title="Accuracy",
    higher_is_better=True,
    fmt="{:.2%}",
    needs=("labels", "predictions"),
)
def accuracy(labels: np.ndarray, predictions: np.ndarray, probabilities: np.ndarray) -> float:
    """Fraction of images classified right."""
    return float(np.mean(np.asarray(labels) == np.asarray(predictions)))


@register_metric(
    "macro_f1",
    title="Macro F1",
    higher_is_better=True,
    fmt="{:.4f}",
    needs=("labels", "predictions"),
)
def macro_f1(labels: np.ndarray, predictions: np.ndarray, probabilities: np.ndarray) -> float:
    """Unweighted mean of the per-class F1 scores (classes absent from the data count as 0)."""
    from sklearn.metrics import f1_score

    classes = list(range(probabilities.shape[1]))
    return float(f1_score(labels, predictions, labels=classes, average="macro", zero_division=0))


@register_metric(
    "log_loss",
    title="Log-loss",
    higher_is_better=False,
    fmt="{:.4f}",
    needs=("labels", "probabilities"),
)
def log_loss(labels: np.ndarray, predictions: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean negative log-probability of the true class."""
    return calibration.log_loss(probabilities, labels)


@register_metric(
    "brier", title="Brier", higher_is_better=False, fmt="{:.4f}", needs=("labels", "probabilities")
)
def brier(labels: np.ndarray, predictions: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean squared distance between the probability vector and the one-hot label."""
    return calibration.brier_score(probabilities, labels)


@register_metric(
    "ece", title="ECE", higher_is_better=False, fmt="{:.2%}", needs=("labels", "probabilities")
)
def ece(labels: np.ndarray, predictions: np.ndarray, probabilities: np.ndarray) -> float:
    """Expected calibration error over equal-width confidence bins."""
    return calibration.expected_calibration_error(probabilities, labels)


def compute_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Every registered metric for one set of test labels and predicted probabilities."""
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities)
    predictions = probabilities.argmax(axis=1)
    return {
        name: METRICS.get(name).compute(labels, predictions, probabilities)
        for name in METRICS.names()
    }


def label_metrics(
    labels: np.ndarray, predictions: np.ndarray, num_classes: int
) -> dict[str, float]:
    """The registered metrics that need no probabilities (their ``needs``), from labels and
    predicted classes alone: accuracy and macro F1 for a model that gives no probabilities.

    Example
    -------
    >>> label_metrics(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=2)["accuracy"]
    0.6666666666666666
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    one_hot = np.eye(num_classes)[predictions]  # only its width (the classes) is read
    return {
        spec.name: spec.compute(labels, predictions, one_hot)
        for spec in METRICS.in_registration_order()
        if "probabilities" not in spec.needs
    }


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int
) -> dict[str, Any]:
    """Return the per-class precision/recall/F1/support, the confusion matrix and the number
    of test images; the scalar metrics (accuracy, macro F1, ...) come from the registry
    (:func:`compute_metrics`).

    Every class in ``range(num_classes)`` gets a row even when absent from the data (its scores
    are then 0), so tables from different runs line up.

    Example
    -------
    >>> m = classification_metrics(np.array([0, 1, 1]), np.array([0, 1, 0]), num_classes=2)
    >>> m["confusion_matrix"], m["per_class"]["support"]
    ([[1, 0], [1, 1]], [1, 2])
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    labels = list(range(num_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "per_class": {
            "precision": [float(v) for v in precision],
            "recall": [float(v) for v in recall],
            "f1": [float(v) for v in f1],
            "support": [int(v) for v in support],
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "n_test": int(len(y_true)),
    }
