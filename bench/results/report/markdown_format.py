"""Formatting for the report's markdown: tables, wrapped prose, numbers with their spread."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

WIDTH = 100
"""Prose is wrapped at this many characters (tables are left as wide as they are)."""


def given(value: Any) -> bool:
    """False for None and NaN (how a missing label comes back out of a frame)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """A GitHub markdown table; cells are shown as given (no number parsing)."""
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def wrap(text: str, prefix: str = "") -> list[str]:
    """``text`` wrapped at :data:`WIDTH`; ``prefix`` starts the first line (say ``"- "``)."""
    indent = " " * len(prefix)
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=prefix,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


ECE_FORMAT = "{:.2%}"
"""How every page writes an expected calibration error (and its half-width): ``10.09%``."""


def ece(value: Any) -> str:
    """An ECE in :data:`ECE_FORMAT`, or ``-`` when missing."""
    return num(value, ECE_FORMAT)


def pct(fraction: float, digits: int = 2) -> str:
    """A fraction as percent: ``0.99143`` -> ``99.14`` (one digit: ``0.99`` -> ``99``)."""
    text = f"{100 * fraction:.{digits}f}"
    return text.rstrip("0").rstrip(".") if digits == 1 else text


def pct_hw(row: Any, name: str) -> str:
    """``row[name]`` as percent with `` ± `` its half-width ``row[name + "_hw"]``."""
    value, hw = row[name], row[f"{name}_hw"]
    if pd.isna(value):
        return "-"
    return f"{100 * value:.2f}" + plus_minus(100 * hw, "{:.2f}")


def mean_hw(row: Any, name: str, fmt: str) -> str:
    """``row[name]`` in format ``fmt`` with `` ± `` its half-width, or ``-`` if missing."""
    value, hw = row[name], row.get(f"{name}_hw", np.nan)
    if value is None or pd.isna(value):
        return "-"
    return fmt.format(value) + plus_minus(hw, fmt)


def plus_minus(half_width: float, fmt: str) -> str:
    """`` ± hw``, or nothing when there is no spread to show: a ``± 0.00`` would claim a
    precision that identical values do not have."""
    if pd.isna(half_width) or half_width == 0:
        return ""
    return f" ± {fmt.format(half_width)}"


def mean_interval(mean: float, low: float, high: float, fmt: str) -> str:
    """``mean [low, high]`` in format ``fmt`` (the mean alone without an interval)."""
    if pd.isna(mean):
        return "-"
    if pd.isna(low):
        return fmt.format(mean)
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def median_range(median: float, low: float, high: float) -> str:
    """Seconds as ``median [min–max]`` (the median alone when all are equal)."""
    if pd.isna(median):
        return "-"
    if low == high:
        return f"{median:.1f}"
    return f"{median:.1f} [{low:.1f}–{high:.1f}]"


def num(value: Any, fmt: str) -> str:
    """``value`` in format ``fmt``, or ``-`` when missing."""
    return "-" if value is None or pd.isna(value) else fmt.format(value)


def count(value: Any) -> str:
    """A whole number with thousands separators, or ``-`` when missing."""
    if value is None or pd.isna(value):
        return "-"
    return f"{int(round(value)):,}"


def range_of(median: Any, low: Any, high: Any, fmt: str = "{:,.0f}") -> str:
    """``median [min–max]`` in ``fmt`` (the median alone when all are equal; ``-`` when
    missing)."""
    if median is None or pd.isna(median):
        return "-"
    if low == high or pd.isna(low) or pd.isna(high):
        return fmt.format(median)
    return f"{fmt.format(median)} [{fmt.format(low)}–{fmt.format(high)}]"
