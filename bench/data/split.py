"""The fixed validation split every model of the race shares.

It is carved once from a dataset's training set, stratified by class, with a fixed seed that
does not depend on the run's seed, so every model and every seed sees the same validation
images. Training uses the rest; the test set is only predicted once, after training.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

SPLIT_SEED = 20_261_130


@dataclass(frozen=True, eq=False)
class Split:
    """Training and validation images and labels, and the indices the split took."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    val_index: np.ndarray

    def describe(self) -> dict:
        """Size and SHA-256 of the validation indices (into the original training set)."""
        return {
            "n": int(len(self.val_index)),
            "index_sha256": index_hash(self.val_index),
            "seed": SPLIT_SEED,
            "stratified": True,
        }


def index_hash(index: np.ndarray) -> str:
    """SHA-256 of sorted indices as little-endian int64: names a split exactly."""
    return hashlib.sha256(np.sort(index).astype("<i8").tobytes()).hexdigest()


def validation_count(n_train: int, size: int | float) -> int:
    """How many of ``n_train`` images ``size`` asks for (an int, or a fraction below 1)."""
    count = int(round(n_train * size)) if isinstance(size, float) and size < 1 else int(size)
    if not 0 < count < n_train:
        raise ValueError(f"a validation split of {size} does not fit {n_train} training images")
    return count


def validation_split(
    x: np.ndarray, y: np.ndarray, size: int | float, seed: int = SPLIT_SEED
) -> Split:
    """Split ``(x, y)`` into training and a stratified validation part of ``size`` images.

    Example
    -------
    >>> y = np.repeat(np.arange(10), 10)
    >>> split = validation_split(np.zeros((100, 2, 2)), y, size=20)
    >>> len(split.y_val), sorted(np.bincount(split.y_val))
    (20, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    """
    from sklearn.model_selection import train_test_split

    count = validation_count(len(x), size)
    positions = np.arange(len(x))
    train_index, val_index = train_test_split(
        positions, test_size=count, random_state=seed, stratify=y
    )
    train_index, val_index = np.sort(train_index), np.sort(val_index)
    return Split(x[train_index], y[train_index], x[val_index], y[val_index], val_index)
