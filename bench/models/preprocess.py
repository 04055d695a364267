"""Input transforms models declare for themselves; the loader hands out raw uint8 images."""

from __future__ import annotations

import numpy as np


def scale_to_unit(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels to float32 in [0, 1] (divide by 255), keeping the shape."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def images_with_channel(images: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] and add a trailing channel axis: (N, H, W) -> (N, H, W, 1)."""
    return scale_to_unit(images)[..., np.newaxis]


def images_channel_first(images: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] and add a channel axis in PyTorch's layout: (N, H, W) -> (N, 1, H, W)."""
    return scale_to_unit(images)[:, np.newaxis]


def flatten_and_scale(images: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] and flatten each image: (N, H, W) -> (N, H * W)."""
    scaled = scale_to_unit(images)
    return scaled.reshape(len(scaled), -1)


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Return float32 one-hot rows for integer ``labels``."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}); got {labels.min()}..{labels.max()}"
        )
    encoded = np.zeros((len(labels), num_classes), dtype=np.float32)
    encoded[np.arange(len(labels)), labels] = 1.0
    return encoded
