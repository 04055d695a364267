"""Speed columns over the runs of one model: medians with ranges, busy runs left out (pure).

A run whose matmul probe read far below its host's median was timed on a busy machine; its
accuracy stands, its clocks do not. Every speed column is the median with the minimum and
maximum over the remaining runs, beside the range of their probes, so a reader can see what
machine speed the numbers come from. Two rows are comparable in speed only when their median
probes agree within :data:`PROBE_AGREEMENT` (we compare, we do not normalise: a probe measures
a matmul, not the model's mix of work).
"""

from __future__ import annotations

import math

import pandas as pd

PROBE_AGREEMENT = 0.10
"""Two median probes within 10% of each other: their runs' speeds may be compared."""

SPEED_COLUMNS = {
    "train_seconds": "train_s",
    "train_samples_per_s": "train_samples_per_s",
    "inference_samples_per_s": "inference_samples_per_s",
    "latency_p50_ms": "latency_p50_ms",
    "peak_gflops": "probe_gflops",
}
"""Run-frame column -> summary prefix; each gets ``_median``, ``_min`` and ``_max``."""


def speed_summary(runs: pd.DataFrame) -> dict[str, float | int]:
    """Median, min and max of each :data:`SPEED_COLUMNS` over the runs not flagged ``busy``
    (NaN when every run was busy), and ``timed_runs``, how many runs that is.

    Example
    -------
    >>> frame = pd.DataFrame({"train_seconds": [2.0, 3.0, 9.0], "busy": [False, False, True]})
    >>> s = speed_summary(frame)
    >>> s["train_s_median"], s["train_s_max"], s["timed_runs"]
    (2.5, 3.0, 2)
    """
    quiet = runs.loc[~runs["busy"].astype(bool)]
    result: dict[str, float | int] = {"timed_runs": len(quiet)}
    for column, prefix in SPEED_COLUMNS.items():
        values = quiet[column].dropna() if column in quiet else pd.Series(dtype=float)
        empty = values.empty
        result[f"{prefix}_median"] = math.nan if empty else float(values.median())
        result[f"{prefix}_min"] = math.nan if empty else float(values.min())
        result[f"{prefix}_max"] = math.nan if empty else float(values.max())
    return result


def probes_agree(probe_a: float, probe_b: float, tolerance: float = PROBE_AGREEMENT) -> bool:
    """True when two median probes differ by at most ``tolerance`` of the larger one.

    Example
    -------
    >>> probes_agree(200.0, 185.0), probes_agree(200.0, 95.0), probes_agree(200.0, float("nan"))
    (True, False, False)
    """
    if pd.isna(probe_a) or pd.isna(probe_b) or max(probe_a, probe_b) <= 0:
        return False
    return abs(probe_a - probe_b) <= tolerance * max(probe_a, probe_b)
