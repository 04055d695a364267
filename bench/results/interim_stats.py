"""Stand-ins for two functions branch ``calib`` is adding to :mod:`bench.results.stats`.

``two_level_bootstrap_difference`` (seed-level interval and p-value of an accuracy difference)
and ``format_p_value`` are imported from ``stats`` when it has them; until then the versions
below are used. The report and ``bench compare`` import them from here only, so the switch is
this one module (delete it, and point the two imports at ``stats``, once ``calib`` is merged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.results.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE, Interval

P_FLOOR = 1e-300


@dataclass(frozen=True)
class SeedLevelDifference:
    """Accuracy A - B with a two-level bootstrap interval, and its two-sided p-value."""

    interval: Interval
    p_value: float
    n_seeds_a: int
    n_seeds_b: int


def _two_level_bootstrap_difference(
    correct_a: np.ndarray,
    correct_b: np.ndarray,
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> SeedLevelDifference:
    """Bootstrap seeds of each model, then test images (shared by both), ``n_resamples`` times.

    ``correct_a`` is ``(seeds of A, images)`` and ``correct_b`` ``(seeds of B, images)``, both
    boolean and on the same images in the same order. Each resample draws the seeds of A and of
    B with replacement (independently: seeds of two models are not paired) and the images with
    replacement (paired: an image keeps both models' answers). The interval is the percentile
    interval; the p-value is two-sided from the normal approximation with the bootstrap
    standard error, so it can be far smaller than ``1 / n_resamples``.

    Images are grouped by their pattern of right and wrong over all seeds of both models;
    drawing images is then a multinomial draw over the patterns, the same distribution at a
    fraction of the cost.
    """
    from scipy import stats

    a = np.atleast_2d(np.asarray(correct_a, dtype=bool))
    b = np.atleast_2d(np.asarray(correct_b, dtype=bool))
    if a.shape[1] != b.shape[1] or a.shape[1] < 1:
        raise ValueError(f"need the same, non-empty test images: {a.shape} vs {b.shape}")
    n = a.shape[1]
    patterns, counts = np.unique(np.vstack([a, b]).T, axis=0, return_counts=True)
    pa, pb = patterns[:, : len(a)].T.astype(np.float64), patterns[:, len(a) :].T.astype(np.float64)
    rng = np.random.default_rng(seed)
    image_draws = rng.multinomial(n, counts / n, size=n_resamples).astype(np.float64)
    seeds_a = rng.multinomial(len(a), np.full(len(a), 1 / len(a)), size=n_resamples) / len(a)
    seeds_b = rng.multinomial(len(b), np.full(len(b), 1 / len(b)), size=n_resamples) / len(b)
    per_pattern = seeds_a @ pa - seeds_b @ pb  # (resamples, patterns): A - B on each pattern
    resampled = np.einsum("rp,rp->r", image_draws, per_pattern) / n
    estimate = float(a.mean() - b.mean())
    tail = (1 - confidence) / 2
    low, high = np.percentile(resampled, [100 * tail, 100 * (1 - tail)])
    se = float(resampled.std(ddof=1))
    # no spread at all: the same answers on every resample, p is 1 for no difference, else 0
    p = float(2 * stats.norm.sf(abs(estimate) / se)) if se > 0 else float(estimate == 0)
    method = f"two-level bootstrap (seeds, then test images), {n_resamples:,} resamples, percentile"
    return SeedLevelDifference(
        Interval(estimate, float(low), float(high), confidence, method), p, len(a), len(b)
    )


def _format_p_value(p: float) -> str:
    """``0.034``, ``9.8e-06``, ``< 1e-300``: never ``0`` and never a cut-off like ``<0.0001``."""
    if not math.isfinite(p):
        raise ValueError(f"a p-value must be a finite number, got {p}")
    if p < P_FLOOR:
        return "< 1e-300"
    if p >= 0.01:
        return f"{p:.2g}" if p < 0.995 else "1"
    return f"{p:.1e}"


try:  # branch calib's versions, once merged
    from bench.results.stats import format_p_value, two_level_bootstrap_difference
except ImportError:
    format_p_value = _format_p_value
    two_level_bootstrap_difference = _two_level_bootstrap_difference
