"""How well a model's probabilities match how often it is right: log-loss, Brier score, ECE.

Pure functions over a probability matrix ``(N, K)`` (one row per test image, one column per
class) and integer labels ``(N,)``; nothing here reads or writes files.

* **log-loss**: mean of ``-log p[i, y_i]``; the probability of the true class is clipped to
  ``[eps, 1 - eps]`` with ``eps`` the float64 machine epsilon, as scikit-learn's ``log_loss``
  does for float64 input, so a confident mistake costs about 36 nats, not infinity.
* **Brier score** (multiclass): mean over images of ``sum_k (p[i, k] - onehot[i, k]) ** 2``;
  0 is perfect, 2 is the worst. For K >= 3 classes this is scikit-learn's
  ``brier_score_loss`` (which halves it for two classes unless ``scale_by_half=False``).
* **ECE** (Guo et al. 2017): each image's confidence is its largest probability and its
  prediction that class (the first one on ties); confidences fall into ``n_bins`` equal-width
  bins ``(0, 1/M], (1/M, 2/M], ..., ((M-1)/M, 1]`` and
  ``ECE = sum over bins b of |b| / N * |accuracy(b) - confidence(b)|``.

Probabilities may arrive as float16 (stored records keep them small): they are converted to
float64 and every row is divided by its sum, so rounding in storage does not count as
miscalibration. Rows that are not probabilities at all (NaN, inf, negative, summing far from 1,
as logits would) are refused with a message that says which row and what to pass instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.core.errors import BenchError

ECE_BINS = 15
# A stored row may drift from 1 by rounding (float16 keeps ~3 decimal digits); anything further
# off is not a probability vector, and dividing it by its sum would hide the caller's mistake.
ROW_SUM_TOLERANCE = 0.01
EPS = float(np.finfo(np.float64).eps)


def check_probabilities(proba: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(proba as float64 with rows summing to 1, labels as int64)``.

    Raises ``BenchError`` naming the first bad row for NaN/inf or negative entries, rows whose
    sum is more than ``ROW_SUM_TOLERANCE`` away from 1, mismatched lengths, and labels outside
    ``0..K-1``.

    Example
    -------
    >>> p, y = check_probabilities(np.array([[0.5, 0.5005]], dtype=np.float16), [1])
    >>> float(p.sum()), y.tolist()
    (1.0, [1])
    """
    p = np.asarray(proba)
    if p.ndim != 2 or p.shape[1] < 2:
        raise BenchError(
            f"probabilities must be a 2-D array (images, classes) with at least 2 classes, "
            f"got shape {p.shape}; pass predict_proba's output"
        )
    if not np.issubdtype(p.dtype, np.number) or np.issubdtype(p.dtype, np.complexfloating):
        raise BenchError(f"probabilities must be real numbers, got dtype {p.dtype}")
    p = p.astype(np.float64)
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(p):
        raise BenchError(
            f"labels must be a 1-D array with one label per row of probabilities: "
            f"got labels of shape {y.shape} for {len(p)} rows"
        )
    if len(p) == 0:
        raise BenchError("calibration needs at least one image; got 0 rows")
    whole = np.issubdtype(y.dtype, np.floating) and bool(np.all(y == np.round(y)))
    if not (np.issubdtype(y.dtype, np.integer) or whole):
        raise BenchError(f"labels must be class indices (integers), got dtype {y.dtype}")
    y = y.astype(np.int64)
    k = p.shape[1]
    if y.min() < 0 or y.max() >= k:
        bad = int(np.flatnonzero((y < 0) | (y >= k))[0])
        raise BenchError(
            f"label {y[bad]} of image {bad} is not a class index 0..{k - 1} for {k} "
            "probability columns"
        )
    _refuse_rows(~np.isfinite(p).all(axis=1), p, "holds NaN or inf", "check the model output")
    _refuse_rows((p < 0).any(axis=1), p, "holds a negative value", "pass probabilities")
    sums = p.sum(axis=1)
    _refuse_rows(
        np.abs(sums - 1) > ROW_SUM_TOLERANCE,
        p,
        f"sums to a value more than {ROW_SUM_TOLERANCE} away from 1",
        "pass probabilities (softmax output), not logits or scores",
    )
    p = p / sums[:, None]
    return p, y


def _refuse_rows(bad: np.ndarray, p: np.ndarray, what: str, fix: str) -> None:
    if bad.any():
        rows = np.flatnonzero(bad)
        first = int(rows[0])
        shown = np.array2string(p[first][:10], precision=4, separator=", ")
        raise BenchError(
            f"probability row {first} {what} ({len(rows)} of {len(p)} rows do): {shown}; {fix}"
        )


def log_loss(proba: Any, labels: Any) -> float:
    """Mean negative log-probability of the true class (natural log, clipped like sklearn).

    Example
    -------
    >>> round(log_loss([[0.8, 0.2], [0.4, 0.6]], [0, 1]), 6)  # -(ln 0.8 + ln 0.6) / 2
    0.366985
    """
    p, y = check_probabilities(proba, labels)
    true_class = np.clip(p[np.arange(len(y)), y], EPS, 1 - EPS)
    return float(-np.mean(np.log(true_class)))


def brier_score(proba: Any, labels: Any) -> float:
    """Mean squared distance between each probability vector and its label's one-hot vector.

    Example
    -------
    >>> round(brier_score([[0.8, 0.2], [0.4, 0.6]], [0, 1]), 6)  # (.04 + .04 + .16 + .16) / 2
    0.2
    """
    p, y = check_probabilities(proba, labels)
    distance = p.copy()
    distance[np.arange(len(y)), y] -= 1
    return float(np.mean(np.square(distance).sum(axis=1)))


@dataclass(frozen=True)
class ReliabilityBins:
    """Per confidence bin: image count, accuracy and mean confidence (NaN where empty).

    ``edges`` has ``n_bins + 1`` values from 0 to 1; bin ``b`` is ``(edges[b], edges[b+1]]``
    (the first bin also takes a confidence of exactly 0).
    """

    edges: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray

    @property
    def n_images(self) -> int:
        """Total images over all bins."""
        return int(self.counts.sum())

    @property
    def ece(self) -> float:
        """Expected calibration error: count-weighted mean of |accuracy - confidence|."""
        full = self.counts > 0
        gaps = np.abs(self.accuracy[full] - self.confidence[full])
        return float(np.sum(self.counts[full] * gaps) / self.n_images)

    def to_dict(self) -> dict[str, list]:
        """JSON-ready lists (``None`` for the accuracy and confidence of empty bins)."""

        def listed(values: np.ndarray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in values]

        return {
            "edges": [float(e) for e in self.edges],
            "counts": [int(c) for c in self.counts],
            "accuracy": listed(self.accuracy),
            "confidence": listed(self.confidence),
        }

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> ReliabilityBins:
        """Inverse of :meth:`to_dict` (e.g. bins read back from a record)."""

        def array(values: list) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        return cls(
            edges=np.asarray(data["edges"], dtype=np.float64),
            counts=np.asarray(data["counts"], dtype=np.int64),
            accuracy=array(data["accuracy"]),
            confidence=array(data["confidence"]),
        )


def reliability_bins(proba: Any, labels: Any, n_bins: int = ECE_BINS) -> ReliabilityBins:
    """Group images by confidence (largest probability) into ``n_bins`` equal-width bins.

    Example
    -------
    >>> bins = reliability_bins([[0.9, 0.1], [0.3, 0.7], [0.45, 0.55]], [0, 0, 1], n_bins=2)
    >>> bins.counts.tolist(), bins.accuracy.tolist()
    ([0, 3], [nan, 0.6666666666666666])
    """
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise BenchError(f"n_bins must be a positive integer, got {n_bins!r}")
    p, y = check_probabilities(proba, labels)
    confidence = np.minimum(p.max(axis=1), 1.0)
    correct = p.argmax(axis=1) == y
    edges = np.arange(n_bins + 1) / n_bins  # k / M exactly rounded: 3 / 5 == 0.6
    # side="left" puts a confidence equal to an edge in the bin that edge closes: (lo, hi]
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / counts
        mean_confidence = np.bincount(index, weights=confidence, minlength=n_bins) / counts
    return ReliabilityBins(edges, counts.astype(np.int64), accuracy, mean_confidence)


def expected_calibration_error(proba: Any, labels: Any, n_bins: int = ECE_BINS) -> float:
    """ECE over ``n_bins`` equal-width confidence bins (Guo et al. 2017); 0 is perfect.

    Example
    -------
    >>> round(expected_calibration_error([[0.9, 0.1], [0.3, 0.7]], [0, 0], n_bins=5), 6)
    0.4
    """
    return reliability_bins(proba, labels, n_bins).ece


def calibration_metrics(proba: Any, labels: Any, n_bins: int = ECE_BINS) -> dict[str, Any]:
    """Log-loss, Brier score and ECE of one run, as a JSON-ready dict.

    Example
    -------
    >>> sorted(calibration_metrics([[0.8, 0.2], [0.4, 0.6]], [0, 1]))
    ['brier_score', 'ece', 'ece_bins', 'log_loss']
    """
    p, y = check_probabilities(proba, labels)
    return {
        "log_loss": log_loss(p, y),
        "brier_score": brier_score(p, y),
        "ece": expected_calibration_error(p, y, n_bins),
        "ece_bins": int(n_bins),
    }
