"""Statistics for comparing runs: intervals, McNemar's test, paired bootstrap, Holm correction.

Pure functions over numbers and arrays; nothing here knows about records or files. Where
statsmodels or SciPy already implement a method we call them, and the tests check our own
resampling against ``scipy.stats.bootstrap``.

Which interval where
--------------------
* Over seeds (mean of K runs): Student's t-interval, ``mean +/- t(0.975, K-1) * s / sqrt(K)``.
  With 3 to 5 seeds a bootstrap over seeds is too narrow (it can only reshuffle a handful of
  values), the t-interval is the honest choice.
* One run's accuracy over its n test images: the Wilson score interval (binomial).
* Difference in accuracy of two models on the same test images: a paired bootstrap that
  resamples test images (each image keeps both models' answers, for every seed), percentile
  interval.
* Whether two models differ: McNemar's exact test on the images exactly one of them got right
  (Dietterich 1998 recommends it for one train/test split).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str

    @property
    def half_width(self) -> float:
        """Half the interval's width (exact for symmetric intervals such as the t-interval)."""
        return (self.high - self.low) / 2


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval | None:
    """Student's t-interval for the mean of ``values`` (e.g. one metric over seeds).

    Returns None for fewer than two values: one run says nothing about seed-to-seed spread.

    Example
    -------
    >>> ci = t_interval([0.990, 0.992, 0.991])
    >>> round(ci.estimate, 4), round(ci.half_width, 4)
    (0.991, 0.0025)
    """
    from scipy import stats

    data = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if len(data) < 2:
        return None
    mean = float(data.mean())
    sem = float(data.std(ddof=1)) / math.sqrt(len(data))
    half = float(stats.t.ppf(0.5 + confidence / 2, df=len(data) - 1)) * sem
    return Interval(mean, mean - half, mean + half, confidence, f"t-interval over {len(data)}")


def wilson_interval(correct: int, total: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score interval of an accuracy ``correct / total`` (statsmodels does the arithmetic).

    Example
    -------
    >>> ci = wilson_interval(9900, 10000)
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.9879, 0.9918)
    """
    from statsmodels.stats.proportion import proportion_confint

    if total < 1:
        raise ValueError("a Wilson interval needs at least one test image")
    if not 0 <= correct <= total:
        raise ValueError(f"correct must lie in 0..{total}, got {correct}")
    low, high = proportion_confint(correct, total, alpha=1 - confidence, method="wilson")
    return Interval(correct / total, float(low), float(high), confidence, "Wilson")


def contingency_table(
    labels: np.ndarray, predictions_a: np.ndarray, predictions_b: np.ndarray
) -> np.ndarray:
    """2x2 table of (A right?, B right?) counts: ``[[both, A only], [B only, neither]]``."""
    labels = np.asarray(labels)
    right_a = np.asarray(predictions_a) == labels
    right_b = np.asarray(predictions_b) == labels
    if right_a.shape != right_b.shape:
        raise ValueError(
            f"predictions differ in length: {right_a.shape[0]} vs {right_b.shape[0]} images"
        )
    return np.array(
        [
            [np.sum(right_a & right_b), np.sum(right_a & ~right_b)],
            [np.sum(~right_a & right_b), np.sum(~right_a & ~right_b)],
        ],
        dtype=np.int64,
    )


def mcnemar_exact_p(table: np.ndarray) -> float:
    """Two-sided exact McNemar p-value of a 2x2 table (statsmodels ``mcnemar(exact=True)``).

    Only the off-diagonal counts matter: under "the models are equally accurate" each image that
    exactly one model got right is a fair coin flip between them.

    Example
    -------
    >>> mcnemar_exact_p(np.array([[90, 2], [8, 0]]))  # 2 vs 8 discordant images
    0.109375
    """
    from statsmodels.stats.contingency_tables import mcnemar

    return float(mcnemar(np.asarray(table), exact=True).pvalue)


def paired_bootstrap_difference(
    correct_a: np.ndarray,
    correct_b: np.ndarray,
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Interval:
    """Percentile bootstrap CI of accuracy(A) - accuracy(B), resampling test images in pairs.

    ``correct_a`` and ``correct_b`` are boolean arrays of shape ``(n_images,)`` for one seed or
    ``(n_seeds, n_images)`` for several; the statistic is the difference of the accuracies
    averaged over seeds, and each resampled image keeps its answers from every seed.

    The statistic depends on an image only through ``d = mean over seeds of (a - b)``, which
    takes at most ``2 * n_seeds + 1`` values, so resampling n images with replacement is a
    multinomial draw over those values: the same distribution as resampling indices (what
    ``scipy.stats.bootstrap(..., paired=True)`` does), at a fraction of the cost.
    """
    a = np.atleast_2d(np.asarray(correct_a, dtype=np.float64))
    b = np.atleast_2d(np.asarray(correct_b, dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in shape: {a.shape} vs {b.shape}")
    n_images = a.shape[1]
    if n_images < 1:
        raise ValueError("a paired bootstrap needs at least one test image")
    per_image = (a - b).mean(axis=0)
    values, counts = np.unique(per_image, return_counts=True)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_images, counts / n_images, size=n_resamples)
    resampled = draws @ values / n_images
    tail = (1 - confidence) / 2
    low, high = np.percentile(resampled, [100 * tail, 100 * (1 - tail)])
    return Interval(
        float(per_image.mean()),
        float(low),
        float(high),
        confidence,
        f"paired bootstrap over test images, {n_resamples:,} resamples, percentile",
    )


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (statsmodels ``multipletests(method="holm")``).

    Compare each adjusted value with 0.05 to keep the chance of any false "significant" among
    all the comparisons at or below 5%.
    """
    from statsmodels.stats.multitest import multipletests

    if len(p_values) == 0:
        return []
    return [float(p) for p in multipletests(list(p_values), method="holm")[1]]
