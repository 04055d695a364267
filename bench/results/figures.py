"""Figures drawn from run records: PNGs under ``results/figures/``, linked from the leaderboard.

Per dataset: accuracy vs training time, accuracy vs inference throughput, per-class precision.
Per model: confusion matrix (counts and row-normalized) and learning curves (all seeds). Drawn
headless with matplotlib's Agg backend; each file is written atomically. ``figures/`` is
generated: PNGs there that this call did not draw are removed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.fsutil import atomic_write_bytes
from bench.results.pairwise import label_of
from bench.results.stats import t_interval

FIGURES_DIR = "figures"
DPI = 110


@dataclass
class Figure:
    """One written figure: what it shows and its path relative to the results folder."""

    caption: str
    path: str


@dataclass
class DatasetFigures:
    """The figures of one dataset: cross-model ones and, per model label, its own."""

    overview: list[Figure] = field(default_factory=list)
    per_model: dict[str, list[Figure]] = field(default_factory=dict)


def slug(text: str) -> str:
    """File-name-safe form of a label: ``mlp:quick`` -> ``mlp-quick``."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-")


def model_order(records: Sequence[dict[str, Any]]) -> list[str]:
    """Model labels by mean accuracy, best first (the leaderboard's order)."""
    means: dict[str, list[float]] = {}
    for record in records:
        means.setdefault(label_of(record), []).append(record["metrics"]["accuracy"])
    return sorted(means, key=lambda label: -float(np.mean(means[label])))


def write_figures(
    records: Sequence[dict[str, Any]], results_dir: Path
) -> dict[str, DatasetFigures]:
    """Draw every figure for the ok records in ``records``; return them by dataset."""
    import seaborn as sns

    folder = Path(results_dir) / FIGURES_DIR
    written: set[Path] = set()
    result: dict[str, DatasetFigures] = {}
    ok = [r for r in records if r["status"] == "ok"]
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        for dataset in sorted({r["dataset"] for r in ok}):
            runs = [r for r in ok if r["dataset"] == dataset]
            result[dataset] = _dataset_figures(dataset, runs, folder, written)
    if folder.is_dir():
        for old in folder.glob("*.png"):
            if old not in written:
                old.unlink()
    return result


def _dataset_figures(
    dataset: str, runs: list[dict[str, Any]], folder: Path, written: set[Path]
) -> DatasetFigures:
    order = model_order(runs)
    palette = _palette(order)
    figures = DatasetFigures()

    def save(fig: Any, name: str, caption: str) -> Figure:
        path = folder / f"{name}.png"
        _save(fig, path)
        written.add(path)
        return Figure(caption, f"{FIGURES_DIR}/{path.name}")

    figures.overview.append(
        save(
            accuracy_scatter(runs, "fit_seconds", order, palette, dataset),
            f"{slug(dataset)}_accuracy_vs_training_time",
            "Accuracy vs training time",
        )
    )
    figures.overview.append(
        save(
            accuracy_scatter(runs, "inference_samples_per_s", order, palette, dataset),
            f"{slug(dataset)}_accuracy_vs_inference_throughput",
            "Accuracy vs inference throughput",
        )
    )
    figures.overview.append(
        save(
            per_class_precision(runs, order, palette, dataset),
            f"{slug(dataset)}_per_class_precision",
            "Per-class precision",
        )
    )
    for label in order:
        model_runs = sorted((r for r in runs if label_of(r) == label), key=lambda r: r["seed"])
        own = [
            save(
                confusion_heatmap(model_runs[0]),
                f"{slug(dataset)}_{slug(label)}_confusion",
                "confusion matrix",
            )
        ]
        if any(len(r.get("history") or []) > 1 for r in model_runs):
            own.append(
                save(
                    learning_curves(model_runs),
                    f"{slug(dataset)}_{slug(label)}_learning_curves",
                    "learning curves",
                )
            )
        figures.per_model[label] = own
    return figures


def confusion_heatmap(record: dict[str, Any]) -> Any:
    """Counts (left) and row-normalized shares (right) of one run's confusion matrix.

    The right panel's colour scale stops at the largest off-diagonal share, so the errors are
    visible next to a near-perfect diagonal; its numbers are percentages of the true class.
    """
    import seaborn as sns

    matrix = np.asarray(record["metrics"]["confusion_matrix"])
    names = list(record["dataset_info"]["class_names"])
    shares = 100 * matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    off_diagonal = shares[~np.eye(len(names), dtype=bool)]
    size = max(5.0, 0.55 * len(names) + 1.5)
    fig, (left, right) = _subplots(1, 2, figsize=(2 * size + 1.5, size))
    annot_size = 8 if len(names) > 8 else 10
    sns.heatmap(
        matrix,
        annot=True,
        fmt="d",
        cmap="Blues",
        xticklabels=names,
        yticklabels=names,
        ax=left,
        cbar=False,
        annot_kws={"size": annot_size},
    )
    sns.heatmap(
        shares,
        annot=True,
        fmt=".1f",
        cmap="Reds",
        vmin=0,
        vmax=max(float(off_diagonal.max(initial=0)), 1e-9),
        xticklabels=names,
        yticklabels=names,
        ax=right,
        cbar_kws={"label": "% of the true class"},
        annot_kws={"size": annot_size},
    )
    left.set_title("Counts")
    right.set_title("Row-normalized (%); colour scale stops at the largest error")
    for ax in (left, right):
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle(
        f"{label_of(record)} on {record['dataset']}, seed {record['seed']} "
        f"({int(matrix.sum()):,} test images, accuracy {100 * record['metrics']['accuracy']:.2f}%)"
    )
    return fig


def learning_curves(records: Sequence[dict[str, Any]]) -> Any:
    """Loss and accuracy per epoch, training vs validation, one thin line per seed."""
    import seaborn as sns

    rows = []
    for record in records:
        for entry in record.get("history") or []:
            for split, prefix in (("train", ""), ("validation", "val_")):
                for metric in ("loss", "accuracy"):
                    value = entry.get(f"{prefix}{metric}")
                    if value is not None:
                        rows.append(
                            {
                                "epoch": entry["epoch"],
                                "seed": record["seed"],
                                "split": split,
                                "metric": metric,
                                "value": value,
                            }
                        )
    frame = pd.DataFrame(rows)
    fig, axes = _subplots(1, 2, figsize=(11, 4.2))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        sns.lineplot(
            data=frame[frame["metric"] == metric],
            x="epoch",
            y="value",
            hue="split",
            units="seed",
            estimator=None,
            marker="o",
            alpha=0.8,
            ax=ax,
        )
        ax.set_ylabel(metric)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(title=None)
    first = records[0]
    seeds = ", ".join(str(r["seed"]) for r in records)
    fig.suptitle(
        f"{label_of(first)} on {first['dataset']}: training vs validation "
        f"(validation = test set), seeds {seeds}"
    )
    return fig


SCATTER_AXES = {
    "fit_seconds": ("Training time (s, log scale)", "accuracy vs training time"),
    "inference_samples_per_s": (
        "Inference throughput (images/s, log scale)",
        "accuracy vs inference throughput",
    ),
}


def accuracy_scatter(
    records: Sequence[dict[str, Any]], x: str, order: list[str], palette: dict, dataset: str
) -> Any:
    """Test accuracy against a cost, per run (small dots) and per model (mean with 95% t CI)."""

    frame = pd.DataFrame(
        {
            "model": label_of(r),
            "accuracy": 100 * r["metrics"]["accuracy"],
            "fit_seconds": r["timings"]["fit_seconds"],
            "inference_samples_per_s": r["timings"]["inference"]["samples_per_s"],
        }
        for r in records
    )
    xlabel, what = SCATTER_AXES[x]
    fig, ax = _subplots(figsize=(8.5, 5))
    for label in order:
        part = frame[frame["model"] == label]
        color = palette[label]
        ax.scatter(part[x], part["accuracy"], s=18, alpha=0.45, color=color)
        x_ci, y_ci = t_interval(part[x].tolist()), t_interval(part["accuracy"].tolist())
        ax.errorbar(
            part[x].mean(),
            part["accuracy"].mean(),
            xerr=None
            if x_ci is None
            else [[min(x_ci.half_width, 0.9 * x_ci.estimate)], [x_ci.half_width]],
            yerr=None if y_ci is None else y_ci.half_width,
            fmt="o",
            markersize=8,
            capsize=3,
            color=color,
            label=f"{label} ({len(part)} run{'s' if len(part) > 1 else ''})",
        )
    _plain_log_axis(ax.xaxis)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Test accuracy (%)")
    ax.set_title(f"{dataset}: {what}\nbig dots: mean over seeds with 95% t CI; small: single runs")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, frameon=False)
    return fig


def per_class_precision(
    records: Sequence[dict[str, Any]], order: list[str], palette: dict, dataset: str
) -> Any:
    """Grouped bars: test precision per class and model (mean over seeds, range as error bar)."""
    import seaborn as sns

    names = list(records[0]["dataset_info"]["class_names"])
    frame = pd.DataFrame(
        {"model": label_of(r), "class": name, "precision": value}
        for r in records
        for name, value in zip(names, r["metrics"]["per_class"]["precision"], strict=True)
    )
    width = max(8.0, 0.35 * len(names) * max(len(order), 2) + 2)
    fig, ax = _subplots(figsize=(width, 4.8))
    sns.barplot(
        data=frame,
        x="class",
        y="precision",
        hue="model",
        hue_order=order,
        order=names,
        palette=palette,
        errorbar=("pi", 100),
        err_kws={"linewidth": 1},
        capsize=0.1,
        ax=ax,
    )
    means = frame.groupby(["model", "class"])["precision"].mean()
    bottom = max(0.0, np.floor(20 * (means.min() - 0.02)) / 20)
    ax.set_ylim(bottom, 1.0)
    ax.set_xlabel("Class")
    ax.set_ylabel(f"Test precision (axis starts at {bottom:.2f})")
    ax.set_title(f"{dataset}: per-class precision, mean over seeds (bars: min to max)")
    ax.legend(title=None, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return fig


def _subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float]) -> Any:
    """A figure with constrained layout and a margin, so no label touches the edge.

    Figures are made without pyplot: no global state, no GUI backend, nothing to close; saving
    to PNG renders through matplotlib's Agg canvas.
    """
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fig = Figure(figsize=figsize, layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12))
    return fig, fig.subplots(nrows, ncols)


def _plain_log_axis(axis: Any) -> None:
    """Log scale with short plain tick labels (0.5, 2, 50k, 1M), never 2x10^0.

    Ticks sit at 1, 2 and 5 times each power of ten when the axis spans less than three
    decades, else at the powers of ten only, so labels never crowd each other.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.axes.set_xscale("log")
    low, high = axis.axes.get_xlim()
    subs = (1.0, 2.0, 5.0) if np.log10(high / low) < 3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: _short_number(value)))
    axis.set_minor_formatter(NullFormatter())


def _short_number(value: float) -> str:
    """``0.05``, ``2``, ``500``, ``20k``, ``1M``."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _palette(order: list[str]) -> dict[str, Any]:
    import seaborn as sns

    colors = sns.color_palette("tab10" if len(order) <= 10 else "husl", len(order))
    return dict(zip(order, colors, strict=True))


def _save(fig: Any, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    atomic_write_bytes(path, buffer.getvalue())
