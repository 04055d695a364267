"""Detail frames of a report: time to accuracy, per-class scores, calibration, reliability
bins, learning curves and confusion matrices. Pure functions of the records, used by
:func:`bench.results.report.aggregate.aggregate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.results.stats.intervals import t_interval
from bench.results.store.record import RunRecord


def time_to_accuracy_frame(
    records: Sequence[RunRecord], datasets: pd.DataFrame, order: dict[str, list[str]]
) -> pd.DataFrame:
    """One row per (dataset, model, target): seeds that reached the target and the median,
    min and max training-clock seconds of those that did; ``median_all_s`` is the median over
    every seed with a seed that never reached it counted as infinitely slow (NaN unless more
    than half reached it)."""
    rows = []
    for dataset, labels in order.items():
        for label in labels:
            runs = [r for r in records if r.dataset == dataset and r.label == label]
            for target in datasets.at[dataset, "targets"]:
                every = [_reached(r, target) for r in runs]
                times = [t for t in every if t is not None]
                arrivals = [np.inf if t is None else t for t in every] or [np.inf]
                median_all = np.median(arrivals)
                rows.append(
                    {
                        "dataset": dataset,
                        "model": label,
                        "target": target,
                        "reached": len(times),
                        "n_seeds": len(runs),
                        "median_s": float(np.median(times)) if times else np.nan,
                        "min_s": min(times) if times else np.nan,
                        "max_s": max(times) if times else np.nan,
                        "median_all_s": float(median_all) if np.isfinite(median_all) else np.nan,
                    }
                )
    return pd.DataFrame(rows, columns=_TTA_COLUMNS)


_TTA_COLUMNS = [
    "dataset",
    "model",
    "target",
    "reached",
    "n_seeds",
    "median_s",
    "min_s",
    "max_s",
    "median_all_s",
]


def recorded_time_to_accuracy(record: RunRecord) -> dict[str, float]:
    """The record's time-to-accuracy entries: target (as written) to training seconds."""
    return record.timings.get("time_to_accuracy") or {}


def _reached(record: RunRecord, target: float) -> float | None:
    """Training seconds until ``target`` validation accuracy, or None if never reached."""
    for key, seconds in recorded_time_to_accuracy(record).items():
        if abs(float(key) - target) < 1e-9 and seconds is not None:
            return float(seconds)
    return None


def per_class_frame(records: Sequence[RunRecord], order: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (dataset, model, class): precision, recall and F1, mean over seeds."""
    rows = []
    for r in records:
        per_class = r.metrics.get("per_class") or {}
        names = list(r.dataset_info.get("class_names") or [])
        for i, precision in enumerate(per_class.get("precision") or []):
            rows.append(
                {
                    "dataset": r.dataset,
                    "model": r.label,
                    "class_index": i,
                    "class_name": names[i] if i < len(names) else str(i),
                    "precision": precision,
                    "recall": per_class["recall"][i],
                    "f1": per_class["f1"][i],
                    "support": per_class["support"][i] if "support" in per_class else np.nan,
                }
            )
    columns = ["dataset", "model", "class_index", "class_name"]
    frame = pd.DataFrame(rows, columns=[*columns, "precision", "recall", "f1", "support"])
    if frame.empty:
        return frame
    means = frame.groupby(columns, sort=False)[["precision", "recall", "f1", "support"]].mean()
    means = means.reset_index()
    rank = {(d, m): i for d, labels in order.items() for i, m in enumerate(labels)}
    means["_rank"] = [
        rank.get(key, 0) for key in zip(means["dataset"], means["model"], strict=True)
    ]
    means = means.sort_values(["dataset", "_rank", "class_index"], kind="stable")
    return means.drop(columns="_rank").reset_index(drop=True)


def calibration_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, model) with calibration measured: log-loss, Brier, ECE over seeds
    (mean and t half-width; no half-width for a model whose predictions do not depend on the
    seed)."""
    rows = []
    for (dataset, model), part in runs.groupby(["dataset", "model"], sort=False):
        if part["ece"].isna().all() and part["log_loss"].isna().all():
            continue
        row: dict[str, Any] = {"dataset": dataset, "model": model, "n_seeds": len(part)}
        for metric in ("log_loss", "brier", "ece"):
            values = part[metric].dropna().tolist()
            interval = None if part["deterministic"].all() else t_interval(values)
            row[metric] = float(np.mean(values)) if values else np.nan
            row[f"{metric}_hw"] = interval.half_width if interval else np.nan
        rows.append(row)
    columns = ["dataset", "model", "n_seeds"]
    columns += [f"{m}{s}" for m in ("log_loss", "brier", "ece") for s in ("", "_hw")]
    return pd.DataFrame(rows, columns=columns)


def reliability_bins(records: Sequence[RunRecord]) -> dict[str, dict[str, dict[str, list]]]:
    """Per dataset and model, reliability bins pooled over seeds (counts summed, accuracy and
    confidence count-weighted), as ``{"edges", "counts", "accuracy", "confidence"}``."""
    pooled: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for r in records:
        bins = r.metrics.get("reliability")
        if not bins or not bins.get("counts"):
            continue
        counts = np.asarray(bins["counts"], dtype=np.float64)
        acc = np.nan_to_num(np.asarray(bins["accuracy"], dtype=np.float64)) * counts
        conf = np.nan_to_num(np.asarray(bins["confidence"], dtype=np.float64)) * counts
        slot = pooled.setdefault(r.dataset, {}).setdefault(r.label, {})
        if slot and len(slot["counts"]) != len(counts):
            continue  # another bin count than the other seeds: not poolable
        for key, value in (("counts", counts), ("accuracy", acc), ("confidence", conf)):
            slot[key] = slot.get(key, 0) + value
    result: dict[str, dict[str, dict[str, list]]] = {}
    for dataset, models in pooled.items():
        for label, s in models.items():
            n = s["counts"]
            with np.errstate(invalid="ignore", divide="ignore"):
                acc, conf = s["accuracy"] / n, s["confidence"] / n
            result.setdefault(dataset, {})[label] = {
                "edges": (np.arange(len(n) + 1) / len(n)).tolist(),
                "counts": [int(c) for c in n],
                "accuracy": [None if c == 0 else float(a) for a, c in zip(acc, n, strict=True)],
                "confidence": [None if c == 0 else float(x) for x, c in zip(conf, n, strict=True)],
            }
    return result


# --- curves and confusion -------------------------------------------------------------------


def history_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Long form of every run's per-epoch history: one row per (run, epoch, split, metric)."""
    rows = []
    for r in records:
        for entry in r.history:
            for split, prefix in (("train", ""), ("validation", "val_")):
                for metric in ("loss", "accuracy"):
                    value = entry.get(f"{prefix}{metric}")
                    if value is not None:
                        rows.append(
                            (r.dataset, r.label, r.seed, entry["epoch"], split, metric, value)
                        )
    columns = ["dataset", "model", "seed", "epoch", "split", "metric", "value"]
    return pd.DataFrame(rows, columns=columns)


def pooled_confusion(records: Sequence[RunRecord]) -> dict[str, dict[str, np.ndarray]]:
    """Per dataset and model, the confusion matrix summed over seeds (counts)."""
    result: dict[str, dict[str, np.ndarray]] = {}
    for r in records:
        matrix = r.metrics.get("confusion_matrix")
        if matrix is None:
            continue
        models = result.setdefault(r.dataset, {})
        models[r.label] = models.get(r.label, 0) + np.asarray(matrix, dtype=np.int64)
    return result
