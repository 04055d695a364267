"""Across Keras backends: one model trained on several backends, side by side (pure).

A Keras model run with ``--backend tensorflow,jax,torch`` computes the same network with the
same recipe in three libraries. This frame puts each backend beside the reference backend
(TensorFlow, the default, when it ran): accuracy with the seed-level difference and its 95%
interval, and speed as ratios of medians over seeds, so that "the same model, how much faster"
reads off one row. A ratio means something only for runs timed on the same machine; ``hosts``
lets the page say when they were not.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bench.core.spec import DEFAULT_BACKEND, model_label
from bench.results.stats.pairwise import Answers, NotComparable, compare_models
from bench.results.store.record import RunRecord

BACKEND_COLUMNS = [
    "dataset",
    "model",
    "backend",
    "label",
    "version",
    "reference",
    "n_seeds",
    "accuracy",
    "acc_low",
    "acc_high",
    "diff",
    "diff_low",
    "diff_high",
    "within",
    "train_samples_per_s",
    "train_ratio",
    "inference_samples_per_s",
    "inference_ratio",
    "latency_p50_ms",
    "latency_ratio",
    "hosts",
]


def backend_of(record: RunRecord) -> str:
    """The Keras backend a run trained on (the default for records that name none)."""
    return record.run.backend or DEFAULT_BACKEND


def backend_version(record: RunRecord) -> str:
    """``"jax 0.10.2"``: the backend library and its version, as the run recorded them."""
    framework = record.environment.get("framework") or {}
    backend = backend_of(record)
    version = framework.get(backend)
    return f"{backend} {version}" if version else backend


def backend_frame(
    records: Sequence[RunRecord], summary: pd.DataFrame, answers: Answers | None = None
) -> pd.DataFrame:
    """One row per (dataset, model, backend) for models that ran on two or more backends.

    ``diff`` (points, with ``diff_low``/``diff_high``) is this backend's accuracy minus the
    reference backend's, from the two-level bootstrap of :mod:`bench.results.stats.intervals`;
    ``within`` is True when that interval contains 0. The ratios are "times faster than the
    reference": training and inference images/s divided by the reference's, and the
    reference's median single-image latency divided by this backend's. The reference row has
    ratios of 1 and no difference.
    """
    answers = answers or Answers()
    groups: dict[tuple[str, str], dict[str, list[RunRecord]]] = {}
    for r in records:
        if not r.ok:
            continue
        base = model_label(r.model, r.preset)
        groups.setdefault((r.dataset, base), {}).setdefault(backend_of(r), []).append(r)
    rows = []
    for (dataset, base), by_backend in sorted(groups.items()):
        if len(by_backend) < 2:
            continue
        reference = DEFAULT_BACKEND if DEFAULT_BACKEND in by_backend else sorted(by_backend)[0]
        order = [reference, *sorted(b for b in by_backend if b != reference)]
        ref_label = by_backend[reference][0].label
        ref = summary.loc[(dataset, ref_label)]
        for backend in order:
            runs = by_backend[backend]
            label = runs[0].label
            mine = summary.loc[(dataset, label)]
            diff = (np.nan, np.nan, np.nan)
            if backend != reference:
                diff = _difference(records, label, ref_label, dataset, answers)
            rows.append(
                {
                    "dataset": dataset,
                    "model": base,
                    "backend": backend,
                    "label": label,
                    "version": backend_version(runs[0]),
                    "reference": backend == reference,
                    "n_seeds": int(mine["n_seeds"]),
                    "accuracy": mine["accuracy"],
                    "acc_low": mine["acc_low"],
                    "acc_high": mine["acc_high"],
                    "diff": diff[0],
                    "diff_low": diff[1],
                    "diff_high": diff[2],
                    "within": bool(diff[1] <= 0 <= diff[2]) if backend != reference else True,
                    "train_samples_per_s": mine["train_samples_per_s"],
                    "train_ratio": _ratio(mine["train_samples_per_s"], ref["train_samples_per_s"]),
                    "inference_samples_per_s": mine["inference_samples_per_s"],
                    "inference_ratio": _ratio(
                        mine["inference_samples_per_s"], ref["inference_samples_per_s"]
                    ),
                    "latency_p50_ms": mine["latency_p50_ms"],
                    "latency_ratio": _ratio(ref["latency_p50_ms"], mine["latency_p50_ms"]),
                    "hosts": mine["hosts"],
                }
            )
    return pd.DataFrame(rows, columns=BACKEND_COLUMNS)


def _difference(
    records: Sequence[RunRecord], label: str, reference: str, dataset: str, answers: Answers
) -> tuple[float, float, float]:
    """Accuracy of ``label`` minus ``reference`` in points, with its 95% interval."""
    try:
        pair = compare_models(records, label, reference, dataset, False, answers)
    except NotComparable:
        return (np.nan, np.nan, np.nan)
    d = pair.difference
    return (100 * d.estimate, 100 * d.low, 100 * d.high)


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when either is missing or the denominator is 0."""
    if pd.isna(numerator) or pd.isna(denominator) or not denominator:
        return np.nan
    return float(numerator) / float(denominator)
