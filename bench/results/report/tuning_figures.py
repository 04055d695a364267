"""The tuned race's figure: best-so-far validation accuracy against the trial number and
against cumulative training seconds, one line per study (model, and search seed when not 0)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.ticker import MaxNLocator

from bench.results.report.figure_style import model_colors, side_legend, subplots

MIN_MARGIN_POINTS = 1.0
"""Room below the weakest search's best, in accuracy points, so its line shows."""


def best_so_far_figure(frame: pd.DataFrame, dataset: str) -> Any:
    """A two-panel matplotlib figure of the rows of ``dataset`` in ``frame`` (from
    :func:`~bench.results.report.frames_tuning.trial_frame`); ``figure_style.png_bytes`` turns
    it into PNG bytes."""
    rows = frame[frame["dataset"] == dataset]
    fig, (by_trial, by_seconds) = subplots(1, 2, figsize=(11.5, 4.2), sharey=True)
    colors = model_colors(rows["model"].unique())
    for _study, lines in rows.groupby("study", sort=True):
        lines = lines.sort_values("trial")
        model, seed = lines["model"].iloc[0], int(lines["search_seed"].iloc[0])
        label = model if seed == 0 else f"{model} (search seed {seed})"
        style = {"color": colors[model], "linestyle": "-" if seed == 0 else ":", "label": label}
        by_trial.step(lines["trial"] + 1, 100 * lines["best_so_far"], where="post", **style)
        by_seconds.step(
            lines["cumulative_seconds"], 100 * lines["best_so_far"], where="post", **style
        )
    low, high = accuracy_window(rows)
    by_trial.set_ylim(low, high)
    by_trial.xaxis.set_major_locator(MaxNLocator(integer=True))
    by_trial.set_xlabel("trial")
    by_seconds.set_xlabel("cumulative training seconds")
    by_trial.set_ylabel("best validation accuracy so far (%)")
    side_legend(by_seconds, fontsize="small")
    fig.suptitle(f"{dataset}: best-so-far validation accuracy of each model's search")
    return fig


def accuracy_window(rows: pd.DataFrame) -> tuple[float, float]:
    """The accuracy range (%) the figure shows: from a little below the weakest search's best
    to just above the strongest's, so that the searches' bests can be told apart; an early
    trial far below (one that diverged) runs off the bottom."""
    finals = 100 * rows.groupby("study")["best_so_far"].max().dropna()
    if finals.empty:
        return 0.0, 100.0
    spread = float(finals.max() - finals.min())
    low = max(0.0, float(finals.min()) - max(MIN_MARGIN_POINTS, 0.1 * spread))
    return low, min(100.0, float(finals.max()) + 0.5)
