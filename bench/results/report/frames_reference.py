"""Reference frames: our runs beside the tutorial article's logged numbers (Replication), and
beside published test errors (Published vs ours). Pure functions of the records, used by
:func:`bench.results.report.aggregate.aggregate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.results.stats.intervals import t_interval
from bench.results.store.record import RunRecord

# --- replication and published results ----------------------------------------------------


def replication_frames(records: Sequence[RunRecord]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The article's logged numbers beside ours, for runs made under its protocol.

    Runs count when they are the article's model on its dataset with the test set as
    validation data (``dataset_info["protocol"] == "test-as-validation"``). Returns per epoch
    the article's validation accuracy and ours (mean, 95% interval over seeds) and per class
    the article's correct count (confusion diagonal) and ours.
    """
    from bench.results.report.article_log import (
        ARTICLE_CONFUSION_DIAGONAL,
        ARTICLE_DATASET,
        ARTICLE_MODEL,
        ARTICLE_VAL_ACCURACY,
    )

    runs = [
        r
        for r in records
        if r.model == ARTICLE_MODEL
        and r.dataset == ARTICLE_DATASET
        and r.dataset_info.get("protocol") == "test-as-validation"
    ]
    epoch_rows, class_rows = [], []
    if runs:
        label = runs[0].label
        runs = [r for r in runs if r.label == label]
        for epoch, article in enumerate(ARTICLE_VAL_ACCURACY, start=1):
            ours = [
                e["val_accuracy"]
                for r in runs
                for e in r.history
                if e.get("epoch") == epoch and e.get("val_accuracy") is not None
            ]
            epoch_rows.append({"model": label, "epoch": epoch, "article": article, **_mean(ours)})
        diagonals = [np.diag(np.asarray(r.metrics["confusion_matrix"])) for r in runs]
        for digit, article in enumerate(ARTICLE_CONFUSION_DIAGONAL):
            ours = [float(d[digit]) for d in diagonals if digit < len(d)]
            class_rows.append({"model": label, "digit": digit, "article": article, **_mean(ours)})
    columns = ["model", "article", "ours", "low", "high", "n_seeds", "difference"]
    epochs = pd.DataFrame(epoch_rows, columns=["epoch", *columns])
    diagonal = pd.DataFrame(class_rows, columns=["digit", *columns])
    for frame in (epochs, diagonal):
        frame["difference"] = frame["ours"] - frame["article"]
    return epochs, diagonal


def _mean(values: list[float]) -> dict[str, Any]:
    interval = t_interval(values)
    mean = float(np.mean(values)) if values else np.nan
    return {
        "ours": mean,
        "low": interval.low if interval else np.nan,
        "high": interval.high if interval else np.nan,
        "n_seeds": len(values),
    }


def published_frame(records: Sequence[RunRecord], summary: pd.DataFrame) -> pd.DataFrame:
    """Models with a published reference: its test error beside ours (95% interval), on the
    dataset the reference was published for.

    ``inside`` is True when the published error lies within our interval.
    """
    rows = []
    seen = set()
    for r in records:
        reference = r.model_info.get("reference")
        key = (r.dataset, r.label)
        if not reference or key in seen or key not in summary.index:
            continue
        if reference.get("dataset", "mnist") != r.dataset:
            continue  # a published MNIST error says nothing about Fashion-MNIST
        seen.add(key)
        row = summary.loc[key]
        published = float(reference["test_error_pct"])
        low, high = 100 * (1 - row["acc_high"]), 100 * (1 - row["acc_low"])
        rows.append(
            {
                "dataset": r.dataset,
                "model": r.label,
                "source": reference.get("source", ""),
                "published_error": published,
                "our_error": 100 * (1 - row["accuracy"]),
                "low": low,
                "high": high,
                "interval": row["acc_method"],
                "n_seeds": row["n_seeds"],
                "inside": bool(low <= published <= high),
                "conditions": reference.get("conditions", ""),
            }
        )
    columns = ["dataset", "model", "source", "published_error", "our_error", "low", "high"]
    columns += ["interval", "n_seeds", "inside", "conditions"]
    return pd.DataFrame(rows, columns=columns)
