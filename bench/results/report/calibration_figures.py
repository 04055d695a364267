"""Reliability diagram: how often models are right against how sure they say they are.

One figure per dataset (the caller loops over datasets), every model of that dataset in it.
Drawn without pyplot through the house helpers of ``bench.results.report.figure_style``
(constrained layout, Agg canvas when saved, seaborn's whitegrid style, tab10 palette in
leaderboard order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bench.core.errors import BenchError
from bench.measure.calibration import ReliabilityBins
from bench.results.report.figure_style import model_colors, short_number, side_legend, subplots

MARKER_MIN = 10  # points^2 of a bin with a handful of images
MARKER_PER_PERCENT = 2.5  # extra points^2 per percent of the test images in the bin


def reliability_diagram(
    curves: Mapping[str, ReliabilityBins],
    title: str = "",
    palette: Mapping[str, Any] | None = None,
) -> Any:
    """A matplotlib Figure: accuracy against mean confidence per bin, one line per model.

    Top panel: each model's non-empty bins as (mean confidence, accuracy) points joined by a
    line, with the diagonal of perfect calibration; a point below the diagonal means
    over-confident. Marker area grows with the bin's share of images, and the legend gives each
    model's ECE. Bottom panel: the share of test images in each bin (log scale), since with
    accurate models nearly all images sit in the last bin and a point drawn from a handful of
    images says little.

    ``curves`` maps a model label to its bins, in the order the legend should list them (the
    leaderboard's); ``palette`` maps labels to colours (default: tab10 in that order).
    """
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    if not curves:
        raise BenchError("a reliability diagram needs at least one model's bins; got none")
    order = list(curves)
    colors = dict(palette) if palette is not None else model_colors(order)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        fig, (top, bottom) = subplots(2, 1, figsize=(10, 7))
    top.get_gridspec().set_height_ratios([3, 1])
    top.plot(
        [0, 1], [0, 1], linestyle="--", color="0.45", linewidth=1, label="perfectly calibrated"
    )
    smallest_share = 1.0
    for label in order:
        bins = curves[label]
        full = bins.counts > 0
        color = colors[label]
        share = 100 * bins.counts / max(bins.n_images, 1)
        top.plot(bins.confidence[full], bins.accuracy[full], linewidth=1, alpha=0.6, color=color)
        top.scatter(
            bins.confidence[full],
            bins.accuracy[full],
            s=MARKER_MIN + MARKER_PER_PERCENT * share[full],
            color=color,
            edgecolor="white",
            linewidth=0.5,
            zorder=3,
            label=f"{label}: ECE {bins.ece:.3f} ({bins.n_images:,} images)",
        )
        centres = (bins.edges[:-1] + bins.edges[1:]) / 2
        bottom.plot(
            centres[full], share[full], marker="o", markersize=4, linewidth=1.2, color=color
        )
        if full.any():
            smallest_share = min(smallest_share, float(share[full].min()))
    n_bins = {len(bins.counts) for bins in curves.values()}
    width = "equal-width" if len(n_bins) > 1 else f"{n_bins.pop()} equal-width"
    top.set_xlim(0, 1.02)  # room for the markers of confidence and accuracy 1
    top.set_ylim(-0.02, 1.04)
    top.set_aspect("auto")
    top.set_ylabel("Accuracy in the bin")
    top.set_xlabel("")
    top.tick_params(labelbottom=False)
    legend = side_legend(
        top,
        title="marker area: share of images",
        title_fontsize="small",
        fontsize="small",
    )
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):  # one marker size in the legend, whatever the bins
            handle.set_sizes([30])
    top.set_title(
        (f"{title}\n" if title else "")
        + f"Reliability: accuracy vs confidence, {width} bins (below the diagonal: over-confident)",
        fontsize="medium",
    )
    bottom.set_xlim(0, 1.02)
    bottom.set_yscale("log")
    bottom.set_ylim(10 ** np.floor(np.log10(max(smallest_share, 1e-3))) / 2, 200)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda value, _: short_number(value)))
    bottom.set_ylabel("% of images")
    bottom.set_xlabel("Confidence (largest predicted probability)")
    return fig
