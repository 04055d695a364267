"""Robustness frames: accuracy under corruptions, summarised per model with intervals over
seeds. Pure functions of the records, used by :func:`bench.results.aggregate.aggregate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.results.record import RunRecord
from bench.results.stats import t_interval


def robustness_frames(
    records: Sequence[RunRecord], order: dict[str, list[str]], baseline: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary per (dataset, model) and accuracy per (dataset, model, corruption).

    Summary: clean accuracy, mean corruption accuracy (mean over corruptions), relative mCE
    against ``baseline`` (default: the lowest-ranked model with robustness results on that
    dataset), worst corruption; each a mean over seeds with its t-interval half-width.
    Relative mCE follows Hendrycks and Dietterich (2019): per corruption, the model's rise in
    error from clean to corrupted divided by the baseline's, averaged over corruptions.
    """
    per_corruption = []
    for r in records:
        for name, result in ((r.robustness or {}).get("corruptions") or {}).items():
            per_corruption.append(
                {
                    "dataset": r.dataset,
                    "model": r.label,
                    "seed": r.seed,
                    "corruption": name,
                    "clean": r.accuracy,
                    "accuracy": result["accuracy"],
                    "n": result.get("n"),
                }
            )
    long = pd.DataFrame(
        per_corruption,
        columns=["dataset", "model", "seed", "corruption", "clean", "accuracy", "n"],
    )
    summary_rows, grid_rows = [], []
    for dataset, labels in order.items():
        part = long[long["dataset"] == dataset]
        if part.empty:
            continue
        present = [m for m in labels if m in set(part["model"])]
        base = baseline if baseline in present else present[-1]
        base_part = part[part["model"] == base]
        base_rise = (
            (base_part["clean"] - base_part["accuracy"]).groupby(base_part["corruption"]).mean()
        )
        for model in present:
            mine = part[part["model"] == model]
            by_seed = []
            for _, seed_part in mine.groupby("seed"):
                rise = (seed_part["clean"] - seed_part["accuracy"]).to_numpy()
                denominators = base_rise.reindex(seed_part["corruption"]).to_numpy()
                with np.errstate(invalid="ignore", divide="ignore"):
                    relative = np.nanmean(np.where(denominators > 0, rise / denominators, np.nan))
                worst = seed_part.loc[seed_part["accuracy"].idxmin()]
                by_seed.append(
                    (
                        seed_part["clean"].iloc[0],
                        seed_part["accuracy"].mean(),
                        relative,
                        worst["accuracy"],
                        worst["corruption"],
                    )
                )
            values = np.array([row[:4] for row in by_seed], dtype=np.float64)
            worst_names = pd.Series([row[4] for row in by_seed]).mode()
            row: dict[str, Any] = {
                "dataset": dataset,
                "model": model,
                "baseline": base,
                "n_seeds": len(by_seed),
                "worst_corruption": worst_names.iloc[0],
            }
            for i, name in enumerate(("clean", "mean_corrupted", "relative_mce", "worst")):
                column = values[:, i][~np.isnan(values[:, i])]
                interval = t_interval(column.tolist())
                row[name] = float(column.mean()) if len(column) else np.nan
                row[f"{name}_hw"] = interval.half_width if interval else np.nan
            summary_rows.append(row)
            for corruption, c_part in mine.groupby("corruption", sort=True):
                interval = t_interval(c_part["accuracy"].tolist())
                grid_rows.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "corruption": corruption,
                        "accuracy": c_part["accuracy"].mean(),
                        "accuracy_hw": interval.half_width if interval else np.nan,
                    }
                )
    summary_columns = ["dataset", "model", "baseline", "n_seeds", "worst_corruption"]
    summary_columns += [
        f"{n}{s}" for n in ("clean", "mean_corrupted", "relative_mce", "worst") for s in ("", "_hw")
    ]
    grid_columns = ["dataset", "model", "corruption", "accuracy", "accuracy_hw"]
    return pd.DataFrame(summary_rows, columns=summary_columns), pd.DataFrame(
        grid_rows, columns=grid_columns
    )
