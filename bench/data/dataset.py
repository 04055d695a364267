"""The Dataset record every loader returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """One image-classification dataset as uint8 arrays, with where it came from.

    Images are ``(N, H, W)`` uint8 and labels ``(N,)`` uint8, exactly as published: no scaling,
    reshaping or one-hot encoding. ``checksums`` maps a file name to the SHA-256 of its
    uncompressed content, for every file the data was checked against. Instances compare by
    identity (``eq=False``), since comparing arrays field by field has no single answer.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    checksums: dict[str, str]
    cache_path: str | None

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int]:
        """Height and width of one image."""
        height, width = self.x_train.shape[1:]
        return int(height), int(width)

    def metadata(self) -> dict[str, Any]:
        """Return a JSON-able description: identity, provenance, shapes and class names."""
        return {
            "name": self.name,
            "source": self.source,
            "checksums": dict(self.checksums),
            "cache_path": self.cache_path,
            "shapes": {
                field: list(getattr(self, field).shape)
                for field in ("x_train", "y_train", "x_test", "y_test")
            },
            "n_train": int(self.x_train.shape[0]),
            "n_test": int(self.x_test.shape[0]),
            "image_shape": list(self.image_shape),
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
        }
