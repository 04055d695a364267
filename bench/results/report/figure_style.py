"""The house style of every figure: one colour per model, layout, log axes, PNG bytes.

Figures are made without pyplot (no global state, no GUI backend, nothing to close); PNG
bytes come from matplotlib's Agg canvas. A model keeps its colour on every dataset and in
every figure of a report: :func:`model_colors` derives it from the model's label.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from typing import Any

import numpy as np

DPI = 110
# tab10 without its grey (grey draws reference lines), then the paler tab20 halves
STRONG = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)
# then colours from Kelly's list of maximally distinct colours that no tab10 colour resembles
# (the paler tab20 halves were too close to their strong twins: two greens, two pinks)
LIGHT = (
    "#f3c300",
    "#882d17",
    "#b3446c",
    "#2b3d26",
    "#a1caf1",
    "#c2b280",
    "#f99379",
    "#654522",
    "#0067a5",
)
PALETTE = STRONG + LIGHT


def model_colors(labels: Iterable[str]) -> dict[str, str]:
    """A colour per model label, the same on every dataset of a report.

    Each label prefers the strong colour given by a hash of its name, so adding a model rarely
    moves the others; a label whose colour is taken gets the next free strong one, then the
    next free light one (labels are placed in sorted order, so the result does not depend on
    the order they are passed in). Past ``len(PALETTE)`` models the colours come from an
    evenly spaced HSV wheel.

    Example
    -------
    >>> colors = model_colors(["mlp", "logreg"])
    >>> colors["mlp"] == model_colors(["logreg", "mlp", "cnn_fast"])["mlp"]
    True
    """
    unique = sorted(set(labels))
    if len(unique) > len(PALETTE):
        import matplotlib.colors as mcolors

        hues = np.linspace(0, 1, len(unique), endpoint=False)
        return {
            label: mcolors.to_hex(_rgb(mcolors.hsv_to_rgb((hue, 0.65, 0.85))))
            for label, hue in zip(unique, hues, strict=True)
        }
    taken: dict[int, str] = {}
    for label in unique:
        slot = int(hashlib.sha256(label.encode()).hexdigest(), 16) % len(STRONG)
        for _ in range(len(STRONG)):
            if slot not in taken:
                break
            slot = (slot + 1) % len(STRONG)
        else:
            slot = len(STRONG) + min(set(range(len(LIGHT))) - {s - len(STRONG) for s in taken})
        taken[slot] = label
    return {label: PALETTE[slot] for slot, label in taken.items()}


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kw: Any) -> Any:
    """A figure with constrained layout and a margin, so no label touches the edge."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    fig = Figure(figsize=figsize, layout=ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.12))
    return fig, fig.subplots(nrows, ncols, **kw)


LEGEND_ROWS = 14
"""The most entries one column of a legend beside the axes holds; more wrap into columns."""
LEGEND_COLUMN_INCHES = 3.6
"""How much wider a figure grows for each legend column past the first."""


def side_legend(ax: Any, **kw: Any) -> Any:
    """A legend beside ``ax`` (right of it, top-aligned) in columns of at most
    :data:`LEGEND_ROWS` entries; the figure widens by :data:`LEGEND_COLUMN_INCHES` for each
    column past the first, so many models never squash the axes or run off the page."""
    entries = len(ax.get_legend_handles_labels()[1])
    columns = max(1, -(-entries // LEGEND_ROWS))
    if columns > 1:
        width, height = ax.figure.get_size_inches()
        ax.figure.set_size_inches(width + LEGEND_COLUMN_INCHES * (columns - 1), height)
    options = {"borderaxespad": 0, "frameon": False, **kw}
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), ncol=columns, **options)


def grid(
    n: int,
    *,
    columns: int,
    panel: tuple[float, float],
    margins: tuple[float, float, float, float] = (0.9, 0.3, 0.8, 0.9),
) -> tuple[Any, list[Any]]:
    """A figure of ``n`` panels in rows of ``columns``; unused panels are hidden.

    ``panel`` is one panel's width and height in inches, and ``margins`` the room around
    each panel for its labels (left, right, top, bottom, inches). The layout is fixed rather
    than constrained: with many panels of tick labels, constrained layout costs more than
    the drawing itself.
    """
    from matplotlib.figure import Figure

    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    left, right, top, bottom = margins
    cell_w, cell_h = panel[0] + left + right, panel[1] + top + bottom
    title = 0.7  # the figure's two-line title
    width, height = cell_w * columns, cell_h * rows + title
    fig = Figure(figsize=(width, height))
    axes = []
    for k in range(rows * columns):
        row, column = divmod(k, columns)
        x0 = (column * cell_w + left) / width
        y0 = (height - title - (row + 1) * cell_h + bottom) / height
        ax = fig.add_axes((x0, y0, panel[0] / width, panel[1] / height))
        ax.set_visible(k < n)
        axes.append(ax)
    return fig, axes[:n]


def plain_log_axis(axis: Any) -> None:
    """Log scale with short plain tick labels (0.5, 2, 50k, 1M), never 2x10^0.

    Ticks sit at 1, 2 and 5 times each power of ten when the axis spans less than three
    decades, else at the powers of ten only, so labels never crowd each other.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    is_x = axis is axis.axes.xaxis
    (axis.axes.set_xscale if is_x else axis.axes.set_yscale)("log")
    low, high = axis.axes.get_xlim() if is_x else axis.axes.get_ylim()
    subs = (1.0, 2.0, 5.0) if np.log10(high / low) < 3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: short_number(value)))
    axis.set_minor_formatter(NullFormatter())


def short_number(value: float) -> str:
    """``0.05``, ``2``, ``500``, ``20k``, ``1M``."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def png_bytes(fig: Any) -> bytes:
    """The figure rendered as PNG through the Agg canvas."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def house_style() -> Any:
    """Context manager: seaborn's whitegrid style and notebook sizes for the figures drawn in it."""
    import contextlib

    import seaborn as sns

    stack = contextlib.ExitStack()
    stack.enter_context(sns.axes_style("whitegrid"))
    stack.enter_context(sns.plotting_context("notebook"))
    return stack


def _rgb(colour: Any) -> tuple[float, float, float]:
    red, green, blue = (float(c) for c in colour)
    return red, green, blue
