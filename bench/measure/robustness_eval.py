"""Score one trained model on corrupted test sets: accuracy and probabilities per corruption.

Pure apart from calling the model: the trainer passes the model's ``predict_proba`` and its
``preprocess`` (uint8 ``(N, H, W)`` images in, model input out), the corrupted images by name,
and the clean test labels. For slow models, ``subset`` scores a fixed stratified subset of the
test set (the same images for every corruption, every model and every run; see
``stratified_subset``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from bench.core.errors import BenchError

SUBSET_SEED = 0


@dataclass
class CorruptionScores:
    """Per-corruption accuracy and probabilities ``(n, classes)`` on the scored images.

    ``indices`` are the scored positions in the test set (all of them when no subset was
    asked for) and ``labels`` their labels, so calibration metrics can be computed later.
    """

    accuracy: dict[str, float]
    probabilities: dict[str, np.ndarray]
    indices: np.ndarray
    labels: np.ndarray


def stratified_subset(labels: np.ndarray, size: int, seed: int = SUBSET_SEED) -> np.ndarray:
    """Sorted indices of ``size`` test images with the classes in the test set's proportions.

    Each class gets ``size * count / total`` images rounded down, and the images left over go
    to the classes with the largest remainders (lowest class first on ties); within a class the
    images are the first of a permutation drawn with ``seed``. The same labels, size and seed
    always give the same indices.
    """
    labels = np.asarray(labels)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise BenchError(f"subset size must be a positive integer, got {size!r}")
    if size > len(labels):
        raise BenchError(f"subset size {size} exceeds the {len(labels)} test images")
    classes, counts = np.unique(labels, return_counts=True)
    exact = size * counts / len(labels)
    quota = np.floor(exact).astype(int)
    leftover = size - quota.sum()
    order = np.lexsort((classes, -(exact - quota)))  # largest remainder first, then class
    quota[order[:leftover]] += 1
    rng = np.random.default_rng(seed)
    chosen = [
        rng.permutation(np.flatnonzero(labels == cls))[:take]
        for cls, take in zip(classes, quota, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def evaluate_corruptions(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    preprocess: Callable[[np.ndarray], np.ndarray],
    corrupted: Mapping[str, np.ndarray],
    labels: np.ndarray,
    subset: int | None = None,
) -> CorruptionScores:
    """Predict every corrupted set and score it against ``labels`` (the clean test labels).

    ``corrupted`` maps a corruption name to uint8 images ``(N, H, W)`` aligned with ``labels``.
    With ``subset``, only ``stratified_subset(labels, subset)`` is predicted.
    """
    labels = np.asarray(labels)
    if not corrupted:
        raise BenchError("no corrupted sets given to evaluate")
    for name, images in corrupted.items():
        if len(images) != len(labels):
            raise BenchError(
                f"corrupted set '{name}' has {len(images)} images for {len(labels)} labels; "
                "corrupt the whole test set and pass its clean labels"
            )
    indices = np.arange(len(labels)) if subset is None else stratified_subset(labels, subset)
    scored_labels = labels[indices]
    accuracy: dict[str, float] = {}
    probabilities: dict[str, np.ndarray] = {}
    for name, images in corrupted.items():
        proba = np.asarray(predict_proba(preprocess(np.asarray(images)[indices])))
        if proba.ndim != 2 or len(proba) != len(indices):
            raise BenchError(
                f"predict_proba returned shape {proba.shape} for {len(indices)} images of "
                f"'{name}'; expected (n_images, n_classes)"
            )
        probabilities[name] = proba
        accuracy[name] = float(np.mean(proba.argmax(axis=1) == scored_labels))
    return CorruptionScores(accuracy, probabilities, indices, scored_labels)
