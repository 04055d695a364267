"""Seeds and test images as crossed random factors: a t-test, intervals, resolution, TOST.

A model's answers form a ``(seeds, images)`` 0/1 matrix. Its mean accuracy moves with the
training seeds drawn and with the test images drawn, and the test images are the same for
every seed and every model (crossed, and paired between models). Method of moments:

* seed level: ``s2 / K``, the sample variance of the K per-seed accuracies over K. It holds
  the training-seed variance and the seed-by-image noise of each run; it is never cut to
  zero, and it is only zero when every seed scored exactly the same (a deterministic model).
* image level: the variance of the per-image (seed-averaged) answers over ``n``, less the
  seed-by-image noise that the seed level already holds (two-way ANOVA residual mean
  square over K), floored at 0. It is estimated from thousands of images, so it is precise.

For the difference A - B the per-image values are ``mean_k a_ki - mean_k b_ki`` (paired
images). The standard error is the square root of the sum of the three parts, its degrees of
freedom Welch-Satterthwaite's (``K_a - 1`` and ``K_b - 1`` for the seed parts, ``n - 1`` for
the image part), and the p-value and interval come from Student's t: analytic, so a verdict
never depends on a resampling seed. Everything here is pure NumPy/SciPy and vectorised over
leading axes, so a null simulation can test thousands of experiments at once.

Every function takes the answers as columns with weights: ``correct`` is ``(..., K, m)`` and
``weights`` ``(..., m)`` counts how many test images have that column (the public wrappers
pass the distinct answer patterns and their counts; plain matrices have weight 1 per image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

CONFIDENCE = 0.95
ALPHA = 0.05
POWER = 0.80
EQUIVALENCE_MARGIN = 0.001
"""TOST margin as a fraction: two accuracies within +/-0.1 points count as equivalent."""
MAX_SEEDS_SEARCHED = 1_000


@dataclass(frozen=True)
class CrossedMoments:
    """What the test needs from two answer matrices (arrays when vectorised).

    ``estimate`` is mean accuracy of A minus that of B (or A's mean accuracy alone);
    ``seed_part_a``/``seed_part_b`` the seed-level variances of each model's mean with
    ``seeds_a - 1``/``seeds_b - 1`` degrees of freedom; ``image_part`` the variance of the
    image level with ``n_images - 1``.
    """

    estimate: np.ndarray
    seed_part_a: np.ndarray
    seed_part_b: np.ndarray
    image_part: np.ndarray
    seeds_a: int
    seeds_b: int
    n_images: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        """Variance of the estimate: seed parts plus image part."""
        return self.seed_part_a + self.seed_part_b + self.image_part

    @property
    def standard_error(self) -> np.ndarray:
        """Square root of :attr:`variance`."""
        return np.sqrt(self.variance)

    @property
    def df(self) -> np.ndarray:
        """Welch-Satterthwaite degrees of freedom (inf when every part is 0)."""
        return satterthwaite_df(
            (self.seed_part_a, self.seeds_a - 1),
            (self.seed_part_b, self.seeds_b - 1),
            (self.image_part, self.n_images - 1),
        )


def satterthwaite_df(*parts: tuple[ArrayLike, ArrayLike]) -> np.ndarray:
    """``(sum v)^2 / sum(v^2 / df)`` over ``(variance, df)`` parts; parts with ``df < 1`` or
    variance 0 add nothing (inf when nothing is left)."""
    total = sum(np.asarray(v, dtype=np.float64) for v, _ in parts)
    denominator: np.ndarray | float = 0.0
    for variance, df in parts:
        v = np.asarray(variance, dtype=np.float64)
        d = np.asarray(df, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            denominator = denominator + np.where((d >= 1) & (v > 0), v**2 / np.maximum(d, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, np.asarray(total) ** 2 / denominator, np.inf)


def _model_moments(
    correct: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per model: ``(per-image seed means (..., m), seed part of the mean's variance,
    residual mean square of the seeds x images ANOVA)``."""
    k = correct.shape[-2]
    n = weights.sum(axis=-1)
    seed_accuracy = (correct * weights[..., None, :]).sum(axis=-1) / n[..., None]
    per_image = correct.mean(axis=-2)
    grand = seed_accuracy.mean(axis=-1)
    if k < 2:
        zero = np.zeros_like(grand)
        return per_image, zero, zero
    spread = seed_accuracy.var(axis=-1, ddof=1)
    total = (weights[..., None, :] * (correct - grand[..., None, None]) ** 2).sum(axis=(-2, -1))
    seeds_ss = n * ((seed_accuracy - grand[..., None]) ** 2).sum(axis=-1)
    images_ss = k * (weights * (per_image - grand[..., None]) ** 2).sum(axis=-1)
    residual = np.maximum(total - seeds_ss - images_ss, 0.0) / ((k - 1) * (n - 1))
    return per_image, spread / k, residual


def crossed_moments(
    correct_a: np.ndarray,
    correct_b: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> CrossedMoments:
    """Moments of mean accuracy A - B (or of A alone when ``correct_b`` is None).

    ``correct_*`` are ``(..., K, m)`` 0/1 arrays on the same ``m`` columns; ``weights``
    ``(..., m)`` image counts per column (default 1 each).
    """
    a = np.asarray(correct_a, dtype=np.float64)
    if weights is None:
        weights = np.ones(a.shape[-1])
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), a.shape[:-2] + a.shape[-1:])
    n = w.sum(axis=-1)
    per_a, seed_a, residual_a = _model_moments(a, w)
    k_a = a.shape[-2]
    if correct_b is None:
        per_b = np.zeros_like(per_a)
        seed_b = residual_b = np.zeros_like(seed_a)
        k_b = 1
    else:
        b = np.asarray(correct_b, dtype=np.float64)
        per_b, seed_b, residual_b = _model_moments(b, w)
        k_b = b.shape[-2]
    d = per_a - per_b
    estimate = (w * d).sum(axis=-1) / n
    d_var = (w * (d - estimate[..., None]) ** 2).sum(axis=-1) / np.maximum(n - 1, 1)
    image = np.maximum(d_var - residual_a / k_a - residual_b / k_b, 0.0) / n
    return CrossedMoments(estimate, seed_a, seed_b, image, k_a, k_b, n)


def _patterns(*matrices: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct answer columns of the stacked matrices and how many images have each."""
    rows = [np.atleast_2d(np.asarray(m)).astype(np.float64) for m in matrices]
    widths = {r.shape[1] for r in rows}
    if len(widths) != 1:
        raise ValueError(f"the models must be scored on the same test images, got {widths}")
    for r in rows:
        if not np.isin(r, (0, 1)).all():
            raise ValueError("answers must be right/wrong (booleans or 0/1)")
    stacked = np.concatenate(rows)
    if stacked.shape[1] < 2:
        raise ValueError("a test over images needs at least 2 test images")
    if stacked.shape[0] <= 63:  # one integer per column: far faster than unique(axis=1)
        bits = np.left_shift(np.uint64(1), np.arange(stacked.shape[0], dtype=np.uint64))
        keys = (stacked.astype(np.uint64) * bits[:, None]).sum(axis=0, dtype=np.uint64)
        _, first, counts = np.unique(keys, return_index=True, return_counts=True)
        columns = stacked[:, first]
    else:
        columns, counts = np.unique(stacked, axis=1, return_counts=True)
    split = np.cumsum([r.shape[0] for r in rows])[:-1]
    return np.split(columns, split), counts.astype(np.float64)


@dataclass(frozen=True)
class CrossedTest:
    """Difference A - B (fractions) with its t-interval, p-value and resolution."""

    estimate: float
    low: float
    high: float
    standard_error: float
    df: float
    p_value: float
    seeds_a: int
    seeds_b: int
    n_images: int
    seed_part_a: float
    seed_part_b: float
    image_part: float
    confidence: float = CONFIDENCE

    @property
    def minimum_detectable(self) -> float:
        """Smallest true difference found with :data:`POWER` at :data:`ALPHA` (two-sided)."""
        return minimum_detectable_difference(self.standard_error, self.df)

    def equivalence(self, margin: float = EQUIVALENCE_MARGIN) -> float:
        """TOST p-value of "|A - B| < margin" (small: the two are equivalent)."""
        return float(tost_p_value(self.estimate, self.standard_error, self.df, margin))


def crossed_difference_test(
    correct_a: np.ndarray, correct_b: np.ndarray, confidence: float = CONFIDENCE
) -> CrossedTest:
    """t-test of mean accuracy A - B over crossed seeds and paired test images.

    ``correct_a`` is ``(seeds_a, n_images)`` right/wrong answers, ``correct_b``
    ``(seeds_b, n_images)`` on the same images in the same order (a 1-D array is one seed).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((5, 2000)) < 0.97
    >>> b = rng.random((5, 2000)) < 0.95
    >>> test = crossed_difference_test(a, b)
    >>> test.low < test.estimate < test.high, test.p_value < 0.001
    (True, True)
    """
    (a, b), weights = _patterns(correct_a, correct_b)
    moments = crossed_moments(a, b, weights)
    se, df = float(moments.standard_error), float(moments.df)
    estimate = float(moments.estimate)
    half = float(t_quantile(0.5 + confidence / 2, df)) * se
    return CrossedTest(
        estimate=estimate,
        low=estimate - half,
        high=estimate + half,
        standard_error=se,
        df=df,
        p_value=float(two_sided_p(estimate, se, df)),
        seeds_a=a.shape[0],
        seeds_b=b.shape[0],
        n_images=int(weights.sum()),
        seed_part_a=float(moments.seed_part_a),
        seed_part_b=float(moments.seed_part_b),
        image_part=float(moments.image_part),
        confidence=confidence,
    )


@dataclass(frozen=True)
class MeanInterval:
    """Mean accuracy over seeds and test images with its t-interval (fractions)."""

    estimate: float
    low: float
    high: float
    standard_error: float
    df: float
    seed_sd: float
    seeds: int


def crossed_mean_interval(correct: np.ndarray, confidence: float = CONFIDENCE) -> MeanInterval:
    """Interval of one model's mean accuracy over its seeds and the test images.

    The same variance model as :func:`crossed_difference_test`, so the main table and the
    verdicts agree; clipped to [0, 1]. ``seed_sd`` is the standard deviation of the per-seed
    accuracies (NaN for one seed).

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> ci = crossed_mean_interval(rng.random((5, 5000)) < 0.98)
    >>> 0.97 < ci.low < ci.estimate < ci.high < 0.99
    True
    """
    (a,), weights = _patterns(correct)
    moments = crossed_moments(a, None, weights)
    se, df = float(moments.standard_error), float(moments.df)
    estimate = float(moments.estimate)
    half = float(t_quantile(0.5 + confidence / 2, df)) * se
    seed_sd = math.sqrt(float(moments.seed_part_a) * a.shape[0]) if a.shape[0] > 1 else math.nan
    return MeanInterval(
        estimate=estimate,
        low=max(0.0, estimate - half),
        high=min(1.0, estimate + half),
        standard_error=se,
        df=df,
        seed_sd=seed_sd,
        seeds=a.shape[0],
    )


def t_quantile(q: float, df: np.ndarray | float) -> np.ndarray | float:
    """Student's t quantile; the normal one for infinite df."""
    from scipy import stats

    return stats.t.ppf(q, df)


def two_sided_p(estimate, standard_error, df):
    """Two-sided p-value of ``estimate / standard_error`` against Student's t (vectorised).

    A zero standard error gives 1 for a zero estimate and 0 otherwise."""
    from scipy import stats

    estimate = np.asarray(estimate, dtype=np.float64)
    se = np.asarray(standard_error, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(estimate) / se
    p = 2 * stats.t.sf(t, df)
    return np.where(se > 0, np.minimum(p, 1.0), np.where(estimate == 0, 1.0, 0.0))


def tost_p_value(estimate, standard_error, df, margin: float = EQUIVALENCE_MARGIN):
    """Two one-sided tests of ``-margin < true difference < margin``: the larger of the two
    one-sided p-values (below alpha: equivalent within the margin)."""
    from scipy import stats

    estimate = np.asarray(estimate, dtype=np.float64)
    se = np.asarray(standard_error, dtype=np.float64)
    if margin <= 0:
        raise ValueError(f"an equivalence margin must be positive, got {margin}")
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = stats.t.sf((estimate + margin) / se, df)
        upper = stats.t.cdf((estimate - margin) / se, df)
    p = np.maximum(lower, upper)
    inside = np.abs(estimate) < margin
    return np.where(se > 0, p, np.where(inside, 0.0, 1.0))


def equivalence_words(p_difference: float, p_equivalence: float, alpha: float = ALPHA) -> str:
    """``equivalent`` (TOST below alpha), ``different`` (two-sided test below alpha) or
    ``undecided`` (neither: more seeds or images would tell).

    Example
    -------
    >>> equivalence_words(0.4, 0.01), equivalence_words(0.001, 0.6), equivalence_words(0.3, 0.4)
    ('equivalent', 'different', 'undecided')
    """
    if p_equivalence < alpha:
        return "equivalent"
    if p_difference < alpha:
        return "different"
    return "undecided"


def minimum_detectable_difference(
    standard_error: float, df: float, alpha: float = ALPHA, power: float = POWER
) -> float:
    """The true difference a two-sided t-test at ``alpha`` finds with probability ``power``:
    ``(t(1 - alpha/2) + t(power)) * standard_error`` (the usual normal-approximation rule
    with t quantiles)."""
    return float((t_quantile(1 - alpha / 2, df) + t_quantile(power, df)) * standard_error)


def seeds_to_resolve(
    test: CrossedTest, target: float, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Seeds per model (the same for both) at which :func:`minimum_detectable_difference`
    falls to ``target``, scaling each observed seed variance (``seed_part * K``) to the new
    seed count; None when the image level alone already exceeds ``target`` (more test
    images, not seeds, would be needed) or when it takes more than
    :data:`MAX_SEEDS_SEARCHED`. A deterministic model's zero seed part stays zero.
    """
    var_a = test.seed_part_a * test.seeds_a
    var_b = test.seed_part_b * test.seeds_b
    for k in range(2, MAX_SEEDS_SEARCHED + 1):
        part_a, part_b = var_a / k, var_b / k
        se = math.sqrt(part_a + part_b + test.image_part)
        image = (test.image_part, test.n_images - 1)
        df = float(satterthwaite_df((part_a, k - 1), (part_b, k - 1), image))
        if minimum_detectable_difference(se, df, alpha, power) <= target:
            return k
    return None
