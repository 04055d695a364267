"""Figures of a report, drawn from the frames of :mod:`bench.results.report.aggregate`.

Per dataset: accuracy against training time and against inference throughput, the matrix of
accuracy differences between every two models, per-class F1, row-normalized confusion
matrices of every model side by side, learning curves, the reliability diagram and, when
the runs have them, accuracy under each corruption and a grid of corrupted samples. Every
model keeps one colour in all of them (:func:`bench.results.report.figure_style.model_colors`).
Nothing here reads or writes files: :func:`draw_figures` returns matplotlib figures with
their file names and captions, and the caller saves them.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bench.core.registry import Registry
from bench.results.report.aggregate import Aggregates
from bench.results.report.figure_style import (
    grid,
    house_style,
    model_colors,
    plain_log_axis,
    side_legend,
    subplots,
)
from bench.results.stats.intervals import t_interval

FIGURES_DIR = "figures"


@dataclass
class Drawn:
    """A drawn figure, the file name it should get and what it shows."""

    dataset: str
    name: str
    caption: str
    figure: Any
    figure_id: str = ""

    @property
    def path(self) -> str:
        """Path relative to the results folder."""
        return f"{FIGURES_DIR}/{self.name}.png"


def slug(text: str) -> str:
    """File-name-safe form of a label: ``mlp:quick`` -> ``mlp-quick``."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-")


def report_colors(agg: Aggregates) -> dict[str, str]:
    """One colour per model label over every dataset of the report."""
    return model_colors(agg.runs["model"].unique().tolist())


@dataclass
class DatasetView:
    """Everything the figures of one dataset are drawn from, and nothing else.

    :meth:`fingerprint` hashes all of it, so a caller can keep the PNGs of a dataset whose
    view did not change instead of drawing them again.
    """

    dataset: str
    title: str
    class_names: list[str]
    order: list[str]
    colors: dict[str, str]
    runs: pd.DataFrame
    tested: pd.DataFrame
    differences: pd.DataFrame
    per_class: pd.DataFrame
    confusion: dict[str, np.ndarray]
    history: pd.DataFrame
    reliability: dict[str, dict[str, list]]
    corruptions: pd.DataFrame
    samples: tuple[np.ndarray, np.ndarray] | None = None
    """A few test images and their labels, for the grid of corrupted samples."""
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    """This dataset's rows of the frames that report sections build (``Section.build``)."""

    def fingerprint(self, code_version: str = "") -> str:
        """SHA-256 of the view's content (and of ``code_version``: the drawing code's)."""
        digest = hashlib.sha256(code_version.encode())
        scalars = [self.dataset, self.title, self.class_names, self.order, self.colors]
        digest.update(json.dumps(scalars, sort_keys=True).encode())
        for frame in (self.runs, self.tested, self.differences, self.per_class, self.history):
            digest.update(frame.to_csv().encode())
        digest.update(self.corruptions.to_csv().encode())
        for label in sorted(self.confusion):
            digest.update(label.encode() + np.asarray(self.confusion[label]).tobytes())
        digest.update(json.dumps(self.reliability, sort_keys=True).encode())
        for name in sorted(self.extra):
            digest.update(name.encode() + self.extra[name].to_csv().encode())
        if self.samples is not None:
            digest.update(b"".join(np.ascontiguousarray(a).tobytes() for a in self.samples))
        return digest.hexdigest()


VIEW_RUN_COLUMNS = ["model", "seed", "accuracy", "train_seconds", "inference_samples_per_s"]


def dataset_views(
    agg: Aggregates, samples: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None
) -> list[DatasetView]:
    """One view per dataset of the report, in report order; ``samples`` are a few test images
    and labels per dataset for the grid of corrupted samples (drawn only with robustness
    results)."""
    colors = report_colors(agg)
    views = []
    for dataset, order in agg.order.items():
        mine = agg.runs["dataset"] == dataset
        tested = agg.pairwise[agg.pairwise["dataset"] == dataset]
        views.append(
            DatasetView(
                dataset=dataset,
                title=str(agg.datasets.at[dataset, "title"]),
                class_names=list(agg.datasets.at[dataset, "class_names"]),
                order=list(order),
                colors={m: colors[m] for m in order},
                runs=agg.runs.loc[mine, VIEW_RUN_COLUMNS].reset_index(drop=True),
                tested=tested[["model_a", "model_b", "better"]].reset_index(drop=True),
                differences=agg.differences[dataset],
                per_class=_rows_of(agg.per_class, dataset),
                confusion=agg.confusion.get(dataset, {}),
                history=_rows_of(agg.history, dataset),
                reliability=agg.reliability.get(dataset, {}),
                corruptions=_rows_of(agg.corruptions, dataset),
                samples=(samples or {}).get(dataset),
                extra={
                    name: _rows_of(frame, dataset)
                    for name, frame in agg.extra.items()
                    if isinstance(frame, pd.DataFrame) and "dataset" in frame.columns
                },
            )
        )
    return views


def _rows_of(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    return frame[frame["dataset"] == dataset].drop(columns="dataset").reset_index(drop=True)


def draw_dataset(view: DatasetView) -> list[Drawn]:
    """The figures of one dataset (those its data allows), in registration order."""
    drawn = []
    with house_style():
        for spec in FIGURES.in_registration_order():
            figure = spec.draw(view)
            if figure is not None:
                name = f"{slug(view.dataset)}_{spec.id}"
                drawn.append(Drawn(view.dataset, name, spec.caption, figure, spec.id))
    return drawn


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the report: its id (also the end of its file name), its caption, and the
    function that draws it from a :class:`DatasetView` (None when the data does not allow it)."""

    id: str
    caption: str
    draw: Callable[[DatasetView], Any]


FIGURES: Registry[FigureSpec] = Registry("report figure", "See docs/report.md.")


def report_figure(figure_id: str, caption: str) -> Callable[[Callable], FigureSpec]:
    """Decorator registering a figure drawer under ``figure_id``."""

    def decorator(draw: Callable[[DatasetView], Any]) -> FigureSpec:
        return FIGURES.add(figure_id, FigureSpec(figure_id, caption, draw))

    return decorator


@report_figure("best_so_far", "Best-so-far validation accuracy of each model's search")
def _best_so_far(view: DatasetView) -> Any:
    from bench.results.report.tuning_figures import best_so_far_figure

    trials = view.extra.get("tuning")
    if trials is None or trials.empty:
        return None
    return best_so_far_figure(trials.assign(dataset=view.dataset), view.dataset)


@report_figure("accuracy_vs_training_time", "Accuracy vs training time")
def _accuracy_vs_training_time(view: DatasetView) -> Any:
    if not view.runs["train_seconds"].notna().any():
        return None
    return accuracy_scatter(view.runs, "train_seconds", view.order, view.colors, view.title)


@report_figure("accuracy_vs_inference_throughput", "Accuracy vs inference throughput")
def _accuracy_vs_inference(view: DatasetView) -> Any:
    x = "inference_samples_per_s"
    if not view.runs[x].notna().any():
        return None
    return accuracy_scatter(view.runs, x, view.order, view.colors, view.title)


@report_figure("pairwise", "Accuracy differences between every two models")
def _pairwise(view: DatasetView) -> Any:
    if len(view.order) < 2:
        return None
    return pairwise_matrix(view.differences, view.tested, view.title)


@report_figure("per_class_f1", "Per-class F1")
def _per_class(view: DatasetView) -> Any:
    if not len(view.per_class):
        return None
    return per_class_heatmap(view.per_class, view.order, view.title)


CONFUSION_MODELS = 3
"""Confusion matrices are drawn for this many of the most accurate models per dataset (the
rest are near-diagonal repeats; the dashboard shows any model's on demand)."""


@report_figure("confusion", "Confusion matrices of the most accurate models (row-normalized)")
def _confusion(view: DatasetView) -> Any:
    shown = [m for m in view.order if m in view.confusion][:CONFUSION_MODELS]
    if not shown:
        return None
    return confusion_grid(view.confusion, shown, view.class_names, view.title)


@report_figure("learning_curves", "Learning curves")
def _learning_curves(view: DatasetView) -> Any:
    curved, one_epoch = curve_models(view.history, view.order)
    if not curved:
        return None
    return learning_curves(view.history, curved, view.colors, view.title, left_out=one_epoch)


def curve_models(history: pd.DataFrame, order: Sequence[str]) -> tuple[list[str], list[str]]:
    """The models with a curve (more than one epoch) and those left out (one epoch or none)."""
    epochs = history.groupby("model")["epoch"].nunique() if len(history) else pd.Series()
    curved = [m for m in order if epochs.get(m, 0) > 1]
    return curved, [m for m in order if m not in curved]


@report_figure("reliability", "Reliability diagrams")
def _reliability(view: DatasetView) -> Any:
    if not view.reliability:
        return None
    return reliability(view.reliability, view.order, view.colors, view.title)


@report_figure("corruption_heatmap", "Accuracy under each corruption")
def _corruption_heatmap(view: DatasetView) -> Any:
    if not len(view.corruptions):
        return None
    from bench.results.report.robustness_figures import corruption_heatmap

    return corruption_heatmap(
        view.corruptions[["model", "corruption", "accuracy"]],
        f"{view.title}: accuracy (%) under each corruption\n"
        "mean over seeds; the mean column leaves out clean",
    )


@report_figure("corruption_samples", "Corrupted samples")
def _corruption_samples(view: DatasetView) -> Any:
    if not len(view.corruptions) or view.samples is None:
        return None
    from bench.results.report.robustness_figures import corruption_grid

    images, labels = view.samples
    return corruption_grid(images, 0, labels=labels)


# --- accuracy against cost ------------------------------------------------------------------

SCATTER_AXES = {
    "train_seconds": "Training time (s, training clock, log scale)",
    "inference_samples_per_s": "Inference throughput (images/s, log scale)",
}


LABEL_OFFSETS = (5, -11, 14, -20)
"""Vertical offsets (points) of the scatter's model labels, taken in turn down the ranking."""


def accuracy_scatter(
    runs: pd.DataFrame, x: str, order: Sequence[str], colors: Mapping[str, str], title: str
) -> Any:
    """Test accuracy against a cost, per run (small dots) and per model (mean, 95% t CI)."""
    fig, ax = subplots(figsize=(8.5, 5))
    for label in order:
        part = runs[runs["model"] == label].dropna(subset=[x])
        if part.empty:
            continue
        accuracy = 100 * part["accuracy"]
        ax.scatter(part[x], accuracy, s=18, alpha=0.45, color=colors[label])
        x_ci, y_ci = t_interval(part[x].tolist()), t_interval(accuracy.tolist())
        ax.errorbar(
            part[x].mean(),
            accuracy.mean(),
            xerr=None
            if x_ci is None
            else [[min(x_ci.half_width, 0.9 * x_ci.estimate)], [x_ci.half_width]],
            yerr=None if y_ci is None else y_ci.half_width,
            fmt="o",
            markersize=8,
            capsize=3,
            color=colors[label],
            label=f"{label} ({len(part)} run{'s' if len(part) > 1 else ''})",
        )
        ax.annotate(
            label,
            (part[x].mean(), accuracy.mean()),
            # neighbours in rank often sit close together: alternate above and below
            xytext=(5, LABEL_OFFSETS[order.index(label) % len(LABEL_OFFSETS)]),
            textcoords="offset points",
            fontsize=7,
            color=colors[label],
        )
    plain_log_axis(ax.xaxis)
    ax.set_xlabel(SCATTER_AXES[x])
    ax.set_ylabel("Test accuracy (%)")
    what = "training time" if x == "train_seconds" else "inference throughput"
    ax.set_title(
        f"{title}: accuracy vs {what}\nbig dots: mean over seeds with 95% t CI; small: runs"
    )
    side_legend(ax)
    return fig


# --- pairwise matrix ------------------------------------------------------------------------


def pairwise_matrix(differences: pd.DataFrame, tested: pd.DataFrame, title: str) -> Any:
    """Row minus column mean accuracy (points) for every two models; tested pairs marked.

    A cell of a pair the leaderboard tested carries ``*`` when the verdict was "better"
    (Holm-adjusted, enough seeds) and ``·`` when it was tested without that verdict.
    """
    import seaborn as sns

    labels = list(differences.index)
    marks = np.full(differences.shape, "", dtype=object)
    position = {label: i for i, label in enumerate(labels)}
    for row in tested.itertuples():
        i, j = position[row.model_a], position[row.model_b]
        # a pair with no verdict has better = None, which pandas keeps as NaN (truthy)
        mark = "*" if isinstance(row.better, str) and row.better else "·"
        marks[i, j] = marks[j, i] = mark
    values = differences.to_numpy()
    text = np.array(
        [
            ["" if i == j else f"{values[i, j]:+.2f}{marks[i, j]}" for j in range(len(labels))]
            for i in range(len(labels))
        ]
    )
    size = max(4.5, 0.85 * len(labels) + 2.5)
    fig, ax = subplots(figsize=(size + 1.5, size))
    limit = max(float(np.nanmax(np.abs(values))), 0.01)
    sns.heatmap(
        values,
        annot=text,
        fmt="",
        cmap="RdBu",
        vmin=-limit,
        vmax=limit,
        center=0,
        xticklabels=labels,
        yticklabels=labels,
        ax=ax,
        cbar_kws={"label": "row − column, accuracy points"},
        annot_kws={"size": 9 if len(labels) < 9 else 7},
        mask=np.eye(len(labels), dtype=bool),
    )
    ax.grid(False)
    ax.tick_params(axis="x", rotation=30)
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(
        f"{title}: mean test accuracy, row minus column (points)\n"
        "* better (tested, Holm-adjusted); · tested, no verdict; blank: not tested",
        fontsize="medium",
    )
    return fig


# --- per class and confusion ----------------------------------------------------------------


def per_class_heatmap(per_class: pd.DataFrame, order: Sequence[str], title: str) -> Any:
    """Models x classes: test F1 per class, mean over seeds."""
    import seaborn as sns

    table = per_class.pivot_table(index="model", columns="class_index", values="f1")
    table = table.reindex([m for m in order if m in table.index])
    names = per_class.drop_duplicates("class_index").set_index("class_index")["class_name"]
    width = max(7.0, 0.75 * table.shape[1] + 3)
    fig, ax = subplots(figsize=(width, max(2.5, 0.5 * len(table) + 1.8)))
    sns.heatmap(
        table.to_numpy(),
        annot=True,
        fmt=".3f",
        cmap="viridis",
        xticklabels=[names[c] for c in table.columns],
        yticklabels=list(table.index),
        ax=ax,
        cbar_kws={"label": "F1"},
        annot_kws={"size": 8},
    )
    ax.grid(False)
    ax.tick_params(axis="x", rotation=30)
    ax.tick_params(axis="y", rotation=0)
    ax.set_xlabel("Class")
    ax.set_ylabel("")
    ax.set_title(f"{title}: per-class F1 on the test set, mean over seeds", fontsize="medium")
    return fig


ANNOTATE_FROM_PERCENT = 0.5


def confusion_grid(
    matrices: Mapping[str, np.ndarray], order: Sequence[str], class_names: Sequence[str], title: str
) -> Any:
    """One panel per model: the confusion matrix summed over seeds, each row as % of its true
    class; the colour scale stops at the largest off-diagonal share of all panels, so errors
    stay visible beside a near-perfect diagonal. Cells below ``ANNOTATE_FROM_PERCENT`` carry
    no number (their colour says "almost never")."""
    labels = [m for m in order if m in matrices]
    shares = {}
    for label in labels:
        matrix = np.asarray(matrices[label], dtype=np.float64)
        shares[label] = 100 * matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    k = next(iter(shares.values())).shape[0]
    names = list(class_names) if len(class_names) == k else [str(i) for i in range(k)]
    off = ~np.eye(k, dtype=bool)
    vmax = max(max(float(s[off].max(initial=0)) for s in shares.values()), 1e-9)
    panel = max(3.2, 0.34 * k)
    label_room = 0.07 * max(len(name) for name in names) + 0.4  # rotated tick labels
    fig, axes = grid(
        len(labels),
        columns=min(3, len(labels)),
        panel=(panel, panel),
        margins=(label_room + 0.2, 0.2, 0.45, label_room + 0.15),
    )
    size = 6 if k > 8 else 8
    for ax, label in zip(axes, labels, strict=True):
        share = shares[label]
        ax.imshow(share, cmap="Reds", vmin=0, vmax=vmax, aspect="equal")
        for i, j in zip(*np.nonzero(share >= ANNOTATE_FROM_PERCENT), strict=True):
            dark = min(share[i, j], vmax) > 0.6 * vmax
            ax.text(
                j,
                i,
                f"{share[i, j]:.1f}",
                ha="center",
                va="center",
                fontsize=size,
                color="white" if dark else "black",
            )
        ax.grid(False)
        ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(k), names, fontsize=7)
        n = int(np.asarray(matrices[label]).sum())
        ax.set_title(f"{label} ({n:,} test answers)", fontsize="small")
        ax.set_xlabel("Predicted")
        ax.set_ylabel("True")
    fig.suptitle(
        f"{title}: confusion matrices, % of each true class, all seeds summed\n"
        f"colour stops at the largest error ({vmax:.1f}%); no number below "
        f"{ANNOTATE_FROM_PERCENT}%",
        fontsize="medium",
        y=0.995,
        va="top",
    )
    return fig


# --- learning curves, reliability, corruptions ----------------------------------------------


SUPTITLE_CHARS = 100
"""Where a figure's long heading line wraps."""


def learning_curves(
    history: pd.DataFrame,
    order: Sequence[str],
    colors: Mapping[str, str],
    title: str,
    left_out: Sequence[str] = (),
) -> Any:
    """Validation accuracy and training loss per epoch: per model the mean over seeds (line)
    and each seed (thin); the title names the ``left_out`` models (one epoch: no curve)."""
    fig, axes = subplots(1, 2, figsize=(12, 4.4))
    panels = (
        (axes[0], "validation", "accuracy", "Validation accuracy"),
        (axes[1], "train", "loss", "Training loss (log scale)"),
    )
    for ax, split, metric, ylabel in panels:
        part = history[(history["split"] == split) & (history["metric"] == metric)]
        for label in order:
            mine = part[part["model"] == label]
            if mine.empty:
                continue
            for _, seed_part in mine.groupby("seed"):
                ax.plot(
                    seed_part["epoch"], seed_part["value"], color=colors[label], lw=0.6, alpha=0.35
                )
            mean = mine.groupby("epoch")["value"].mean()
            seeds = mine["seed"].nunique()
            ax.plot(
                mean.index,
                mean.to_numpy(),
                marker="o",
                markersize=3,
                color=colors[label],
                label=f"{label} ({seeds} seed{'s' if seeds > 1 else ''})",
            )
        ax.set_xlabel("Epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if metric == "loss":
            plain_log_axis(ax.yaxis)
    side_legend(axes[1], fontsize="small")
    heading = f"{title}: learning curves (thick: mean over seeds; thin: each seed)"
    if left_out:
        heading += "\n" + textwrap.fill(
            f"left out (one epoch, no curve): {', '.join(left_out)}", SUPTITLE_CHARS
        )
    fig.suptitle(heading)
    return fig


def reliability(
    bins: Mapping[str, Mapping[str, list]],
    order: Sequence[str],
    colors: Mapping[str, str],
    title: str,
) -> Any:
    """The reliability diagram of every model with calibration bins, seeds pooled."""
    from bench.measure.calibration import ReliabilityBins
    from bench.results.report.calibration_figures import reliability_diagram

    curves = {m: ReliabilityBins.from_dict(dict(bins[m])) for m in order if m in bins}
    fig = reliability_diagram(curves, title=f"{title} (test set, seeds pooled)", palette=colors)
    top = fig.axes[0]  # its two-line title is wider than the axes beside the legend
    fig.suptitle(top.get_title(), fontsize="medium")
    top.set_title("")
    return fig
