"""Figures for the corruption suite: example images under each corruption, and accuracy per
model and corruption. Drawn without pyplot in the house style of
``bench.results.report.figure_style``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.core.errors import BenchError
from bench.data.corruptions import CORRUPTIONS, corrupt
from bench.results.report.figure_style import subplots

CLEAN = "clean"


def corruption_grid(
    images: np.ndarray,
    seed: int = 0,
    names: Sequence[str] | None = None,
    labels: Sequence[Any] | None = None,
) -> Any:
    """A grid of ``images`` (a few uint8 ``(N, H, W)`` images): one row per corruption, the
    clean images in the first row, one column per image (titled with its label if given).

    Each corruption is applied to exactly these images with ``seed``; random corruptions draw
    different noise here than for the same images inside the full test set.
    """
    images = np.asarray(images)
    names = list(CORRUPTIONS if names is None else names)
    if images.ndim != 3 or not 1 <= len(images) <= 12:
        raise BenchError(
            f"corruption_grid shows 1 to 12 images shaped (N, H, W); got shape {images.shape}. "
            "Pass a few test images, e.g. dataset.x_test[:5]."
        )
    rows = [(CLEAN, images)] + [(name, corrupt(name, images, seed)) for name in names]
    cell = 0.95
    fig, axes = subplots(
        len(rows), len(images), figsize=(len(images) * cell + 1.4, len(rows) * cell + 0.6)
    )
    axes = np.asarray(axes).reshape(len(rows), len(images))
    for row, (name, batch) in enumerate(rows):
        for col, image in enumerate(batch):
            ax = axes[row, col]
            ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(name.replace("_", " "), rotation=0, ha="right", va="center")
            if row == 0 and labels is not None:
                ax.set_title(f"label {labels[col]}", fontsize=9)
    fig.suptitle(f"Corruptions (MNIST-C style), seed {seed}")
    return fig


def corruption_heatmap(frame: pd.DataFrame, title: str | None = None) -> Any:
    """Accuracy (%) per model (rows) and corruption (columns), annotated, as a heatmap.

    ``frame`` is either wide (index: models, columns: corruptions, values: accuracy in [0, 1])
    or long with columns ``model``, ``corruption`` and ``accuracy``. A ``clean`` column, if
    present, comes first and the others follow the registry order; a ``mean`` column (the
    mean over corruptions, ``clean`` excluded) is added at the end.
    """
    import seaborn as sns

    wide = _wide(frame)
    known = [c for c in (CLEAN, *CORRUPTIONS) if c in wide.columns]
    wide = wide[known + [c for c in wide.columns if c not in known]]
    corrupted = [c for c in wide.columns if c != CLEAN]
    wide = wide.assign(mean=wide[corrupted].mean(axis=1))
    percent = 100 * wide.astype(float)
    width = max(7.0, 0.62 * percent.shape[1] + 2.5)
    fig, ax = subplots(figsize=(width, 0.5 * len(percent) + 2.2))
    sns.heatmap(
        percent,
        annot=True,
        fmt=".1f",
        cmap="RdYlGn",
        vmin=max(0.0, float(np.floor(percent.min().min() / 10) * 10)),
        vmax=100,
        ax=ax,
        cbar_kws={"label": "test accuracy (%)"},
        annot_kws={"size": 8},
        xticklabels=[c.replace("_", " ") for c in percent.columns],
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=60)
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(title or "Accuracy under each corruption (%); mean excludes clean")
    return fig


def _wide(frame: pd.DataFrame) -> pd.DataFrame:
    if {"model", "corruption", "accuracy"} <= set(frame.columns):
        if frame.duplicated(["model", "corruption"]).any():
            raise BenchError(
                "corruption_heatmap needs one accuracy per (model, corruption); average the "
                "seeds first (e.g. frame.groupby(['model', 'corruption']).mean())"
            )
        wide = frame.pivot(index="model", columns="corruption", values="accuracy")
        return wide.reindex(list(dict.fromkeys(frame["model"])))
    if frame.empty or not all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
        raise BenchError(
            "corruption_heatmap takes models x corruptions accuracies (numbers in [0, 1]), or "
            "a long frame with columns model, corruption, accuracy"
        )
    return frame
