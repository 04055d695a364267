"""Robustness frames: accuracy under corruptions, summarised per model with intervals over
seeds. Pure functions of the records, used by :func:`bench.results.report.aggregate.aggregate`; the
arithmetic (relative mCE, mean and worst corruption) is :mod:`bench.results.report.robustness`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.core.errors import BenchError
from bench.results.report.robustness import (
    DEFAULT_BASELINE,
    mean_corruption_accuracy,
    relative_mce,
    worst_corruption,
)
from bench.results.stats.intervals import t_interval
from bench.results.store.record import RunRecord

CLEAN = "clean"
LONG_COLUMNS = ["dataset", "model", "seed", "corruption", "accuracy", "clean", "n"]
SUMMARY_METRICS = ("clean", "mean_corrupted", "relative_mce", "worst")


def corruption_rows(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per (run, corruption): accuracy under it and the run's clean accuracy.

    The clean accuracy is the robustness entry ``clean`` when the run scored one (the same
    images as the corruptions, say a subset), else the run's test accuracy.
    """
    rows = []
    for r in records:
        corruptions = dict((r.robustness or {}).get("corruptions") or {})
        clean = corruptions.pop(CLEAN, None)
        clean_accuracy = r.accuracy if clean is None else float(clean["accuracy"])
        for name, result in corruptions.items():
            rows.append(
                (
                    r.dataset,
                    r.label,
                    r.seed,
                    name,
                    result["accuracy"],
                    clean_accuracy,
                    result.get("n"),
                )
            )
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def robustness_frames(
    records: Sequence[RunRecord], order: dict[str, list[str]], baseline: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary per (dataset, model) and accuracy per (dataset, model, corruption).

    Summary: clean accuracy, mean corruption accuracy, relative mCE against the baseline,
    worst corruption; each a mean over seeds with its t-interval half-width (NaN for one
    seed). The baseline is ``baseline`` if it has robustness results on the dataset, else
    :data:`~bench.results.report.robustness.DEFAULT_BASELINE`, else the least accurate such model;
    its errors are means over its seeds. ``mce_note`` says why a relative mCE is missing.
    """
    long = corruption_rows(records)
    summary_rows, grid_rows = [], []
    for dataset, labels in order.items():
        part = long[long["dataset"] == dataset]
        if part.empty:
            continue
        present = [m for m in labels if m in set(part["model"])]
        base = next(m for m in (baseline, DEFAULT_BASELINE, present[-1]) if m in present)
        base_part = part[part["model"] == base]
        base_errors = (1 - base_part.groupby("corruption")["accuracy"].mean()).to_dict()
        base_clean = 1 - float(base_part.groupby("seed")["clean"].first().mean())
        for model in present:
            mine = part[part["model"] == model]
            per_seed, note = [], ""
            for _, run in mine.groupby("seed"):
                accuracies = dict(zip(run["corruption"], run["accuracy"], strict=True))
                worst_name, worst_accuracy = worst_corruption(accuracies)
                try:
                    relative = relative_mce(
                        {c: 1 - a for c, a in accuracies.items()},
                        1 - float(run["clean"].iloc[0]),
                        base_errors,
                        base_clean,
                    )[1]
                except BenchError as reason:
                    relative, note = np.nan, str(reason)
                per_seed.append(
                    (
                        float(run["clean"].iloc[0]),
                        mean_corruption_accuracy(accuracies),
                        relative,
                        worst_accuracy,
                        worst_name,
                    )
                )
            row: dict[str, Any] = {
                "dataset": dataset,
                "model": model,
                "baseline": base,
                "n_seeds": len(per_seed),
                "worst_corruption": pd.Series([p[4] for p in per_seed]).mode().iloc[0],
                "mce_note": note,
            }
            values = np.array([p[:4] for p in per_seed], dtype=np.float64)
            for i, name in enumerate(SUMMARY_METRICS):
                column = values[:, i][~np.isnan(values[:, i])]
                interval = t_interval(column.tolist())
                row[name] = float(column.mean()) if len(column) else np.nan
                row[f"{name}_hw"] = interval.half_width if interval else np.nan
            summary_rows.append(row)
            clean = mine.groupby("seed")["clean"].first()
            grid_rows.append((dataset, model, CLEAN, float(clean.mean()), _half_width(clean)))
            for corruption, c_part in mine.groupby("corruption", sort=False):
                accuracy = c_part["accuracy"]
                grid_rows.append(
                    (dataset, model, corruption, float(accuracy.mean()), _half_width(accuracy))
                )
    summary_columns = ["dataset", "model", "baseline", "n_seeds", "worst_corruption", "mce_note"]
    summary_columns += [f"{n}{s}" for n in SUMMARY_METRICS for s in ("", "_hw")]
    grid_columns = ["dataset", "model", "corruption", "accuracy", "accuracy_hw"]
    return (
        pd.DataFrame(summary_rows, columns=summary_columns),
        pd.DataFrame(grid_rows, columns=grid_columns),
    )


def _half_width(values: pd.Series) -> float:
    interval = t_interval(values.tolist())
    return interval.half_width if interval else np.nan
