"""Statistics for comparing runs: intervals, McNemar's test, bootstraps, Holm, p-value text.

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
* Whether two models differ once training randomness counts too: the two-level bootstrap
  (seeds and test images), with a p-value that agrees with its interval; a "better" verdict
  needs ``MIN_SEEDS`` seeds per model (one for a deterministic model).
* Many tests on one page: Holm's step-down adjustment over all of them.
* Every p-value is shown through ``format_p_value``: a number, never 0, never just "< x".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
MIN_SEEDS = 5


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


WELCH_METHOD = "Welch t-interval over seeds"
NO_SPREAD = "no spread over seeds"


def welch_difference(
    a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE
) -> Interval | None:
    """Mean(b) - mean(a) with Welch's t-interval over seeds (unequal variances); None below two
    values on either side. Two sides without any spread give a zero-width interval.

    Example
    -------
    >>> welch_difference([0.9, 0.9], [0.95, 0.95]).method
    'no spread over seeds'
    """
    from scipy import stats

    if len(a) < 2 or len(b) < 2:
        return None
    difference = statistics.fmean(b) - statistics.fmean(a)
    if statistics.variance(a) == 0 and statistics.variance(b) == 0:
        return Interval(difference, difference, difference, confidence, NO_SPREAD)
    result = stats.ttest_ind(b, a, equal_var=False)
    low, high = result.confidence_interval(confidence)
    return Interval(difference, float(low), float(high), confidence, WELCH_METHOD)


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


def holm_adjust(p_values: Iterable[float]) -> list[float]:
    """Holm step-down adjusted p-values (statsmodels ``multipletests(method="holm")``).

    Compare each adjusted value with 0.05 to keep the chance of any false "significant" among
    all the comparisons at or below 5%. Pass every test shown on a page at once (all pairs of
    all datasets, in any order): the adjusted values come back in the order given.
    """
    from statsmodels.stats.multitest import multipletests

    values = [float(p) for p in p_values]
    if not values:
        return []
    bad = [p for p in values if not 0 <= p <= 1]  # also catches NaN
    if bad:
        raise ValueError(f"p-values must lie in [0, 1]; got {bad[:3]}")
    return [float(p) for p in multipletests(values, method="holm")[1]]


# --- seed-level inference: training randomness and test-set sampling together ---------------

BOOTSTRAP_CHUNK = 1_000  # resamples drawn per block, to bound memory on large inputs
P_VALUE_SMALLEST_SHOWN = 1e-300


@dataclass(frozen=True)
class DifferenceTest:
    """Accuracy difference A - B with its interval and a two-sided p-value.

    ``seed_scale_a`` / ``seed_scale_b`` are the factors applied to each model's resampled seed
    deviations (0: the seed level collapsed, e.g. one seed or identical seeds).
    """

    interval: Interval
    p_value: float
    resamples: int
    seeds_a: int
    seeds_b: int
    n_images: int
    seed_scale_a: float
    seed_scale_b: float

    @property
    def estimate(self) -> float:
        """Mean accuracy of A over its seeds minus that of B."""
        return self.interval.estimate

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.interval.low

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.interval.high

    @property
    def p_floor(self) -> float:
        """The smallest p-value this many resamples can give: ``2 / (resamples + 1)``."""
        return min(1.0, 2 / (self.resamples + 1))


def two_level_bootstrap_difference(
    correct_a: np.ndarray,
    correct_b: np.ndarray,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = CONFIDENCE,
    *,
    seed_noise_correction: bool = True,
) -> DifferenceTest:
    """Bootstrap interval and p-value of accuracy(A) - accuracy(B) over seeds and test images.

    ``correct_a`` is a boolean array ``(seeds_a, n_images)`` (one row per training seed), and
    ``correct_b`` is ``(seeds_b, n_images)`` on the same images in the same order; the seeds of
    A and B need not match in number or value. Each replicate resamples the seeds of A and of B
    independently (with replacement) and the test images once for both models (paired), and
    takes the difference of mean accuracies.

    With ``seed_noise_correction`` (the default) a replicate is the paired image bootstrap of
    the seed-averaged difference plus each model's resampled seed deviations (per-seed accuracy
    minus the model's mean), scaled so that their variance is the two-way ANOVA estimate of the
    training-seed variance: a seed's accuracy on n images also varies by test-image noise, which
    the image level already counts, so resampling raw seed accuracies would count it twice
    (Owen 2007 on bootstrapping crossed factors); the scale also undoes the bootstrap's
    ``(K - 1) / K`` shrinkage of a K-value spread. Without it, the plain scheme: per-seed
    accuracies on the resampled images, seeds resampled as they are (wider than needed).

    The p-value is the smallest ``alpha`` whose percentile interval at ``1 - alpha`` excludes
    0: ``2 * min(#{d* <= 0} + 1, #{d* >= 0} + 1) / (resamples + 1)``, capped at 1. It agrees
    with the interval shown (p < 0.05 exactly when the 95% interval excludes 0, up to one
    resample) and never reads 0: it cannot go below :attr:`DifferenceTest.p_floor`.

    A model with one seed, or whose seeds all give the same answers (a deterministic model),
    contributes no seed variance: its seed level collapses and only its test-set spread counts.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((5, 2000)) < 0.97
    >>> b = rng.random((5, 2000)) < 0.95
    >>> test = two_level_bootstrap_difference(a, b, resamples=2000)
    >>> test.low < test.estimate < test.high, test.p_value == test.p_floor
    (True, True)
    """
    a = _correctness_matrix(correct_a, "correct_a")
    b = _correctness_matrix(correct_b, "correct_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"A and B must be scored on the same test images: {a.shape[1]} vs {b.shape[1]} columns"
        )
    n_images = a.shape[1]
    if n_images < 2:
        raise ValueError("a two-level bootstrap needs at least 2 test images")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    seeds_a, seeds_b = a.shape[0], b.shape[0]
    rng = np.random.default_rng(seed)
    if seed_noise_correction:
        scale_a, deviation_a = _seed_deviations(a)
        scale_b, deviation_b = _seed_deviations(b)
        per_image = (a.mean(axis=0) - b.mean(axis=0))[:, None]
        test_part = _resampled_means(rng, per_image, resamples)[:, 0]
        weights_a = _seed_weights(rng, seeds_a, resamples)
        weights_b = _seed_weights(rng, seeds_b, resamples)
        differences = (
            test_part + scale_a * (weights_a @ deviation_a) - scale_b * (weights_b @ deviation_b)
        )
    else:
        scale_a = scale_b = 1.0
        per_seed = _resampled_means(rng, np.concatenate([a, b]).T, resamples)
        weights_a = _seed_weights(rng, seeds_a, resamples)
        weights_b = _seed_weights(rng, seeds_b, resamples)
        differences = np.einsum("rs,rs->r", per_seed[:, :seeds_a], weights_a) - np.einsum(
            "rs,rs->r", per_seed[:, seeds_a:], weights_b
        )
    tail = (1 - confidence) / 2
    low, high = np.percentile(differences, [100 * tail, 100 * (1 - tail)])
    below = int(np.count_nonzero(differences <= 0))
    above = int(np.count_nonzero(differences >= 0))
    p_value = min(1.0, 2 * (min(below, above) + 1) / (resamples + 1))
    method = (
        f"two-level bootstrap over training seeds ({seeds_a} vs {seeds_b}) and "
        f"{n_images:,} paired test images, {resamples:,} resamples, percentile"
    )
    return DifferenceTest(
        interval=Interval(float(a.mean() - b.mean()), float(low), float(high), confidence, method),
        p_value=float(p_value),
        resamples=int(resamples),
        seeds_a=seeds_a,
        seeds_b=seeds_b,
        n_images=n_images,
        seed_scale_a=float(scale_a),
        seed_scale_b=float(scale_b),
    )


def _correctness_matrix(correct: np.ndarray, name: str) -> np.ndarray:
    """``(seeds, images)`` float array of 0/1 answers; a 1-D array is one seed."""
    array = np.asarray(correct)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] < 1:
        raise ValueError(
            f"{name} must be (seeds, images) of right/wrong answers, got shape {array.shape}"
        )
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must hold only right/wrong answers (booleans or 0/1)")
    return array.astype(np.float64)


def _resampled_means(rng: np.random.Generator, columns: np.ndarray, resamples: int) -> np.ndarray:
    """Column means of ``columns`` (images, k) over ``resamples`` bootstrap resamples of images.

    Resampling n images with replacement only matters through how often each distinct row
    comes up, a multinomial draw over the distinct rows (a few dozen for accurate models):
    the same distribution as drawing image indices, with a matrix product instead of a gather.
    """
    n_images = columns.shape[0]
    patterns, counts = np.unique(columns, axis=0, return_counts=True)
    result = np.empty((resamples, columns.shape[1]))
    for start in range(0, resamples, BOOTSTRAP_CHUNK):
        stop = min(start + BOOTSTRAP_CHUNK, resamples)
        draws = rng.multinomial(n_images, counts / n_images, size=stop - start)
        result[start:stop] = draws @ patterns / n_images
    return result


def _seed_weights(rng: np.random.Generator, seeds: int, resamples: int) -> np.ndarray:
    """Weights (resamples, seeds) summing to 1 per row: seeds drawn with replacement."""
    return rng.multinomial(seeds, np.full(seeds, 1 / seeds), size=resamples) / seeds


def _seed_deviations(correct: np.ndarray) -> tuple[float, np.ndarray]:
    """Scale and per-seed accuracy deviations for the seed level of the bootstrap.

    Two-way ANOVA without replication on the (seeds, images) 0/1 matrix: the spread of the
    seed accuracies ``s2`` holds the training-seed variance plus ``MS_error / n`` of test-image
    noise; ``seed_var = max(0, s2 - MS_error / n)``. Resampling K deviations gives a mean of
    variance ``(K - 1) / K * s2 / K``; the scale makes it ``seed_var / K``.
    """
    n_seeds, n_images = correct.shape
    seed_accuracy = correct.mean(axis=1)
    if np.all(seed_accuracy == seed_accuracy[0]):  # one seed, or no spread (exactly, not ~1e-17)
        return 0.0, np.zeros(n_seeds)
    grand = float(seed_accuracy.mean())
    deviation = seed_accuracy - grand
    squares = float(np.sum(deviation**2))
    image_accuracy = correct.mean(axis=0)
    total = float(np.sum((correct - grand) ** 2))
    error = total - n_images * squares - n_seeds * float(np.sum((image_accuracy - grand) ** 2))
    mean_square_error = max(error, 0.0) / ((n_seeds - 1) * (n_images - 1))
    spread = squares / (n_seeds - 1)
    seed_variance = max(0.0, spread - mean_square_error / n_images)
    return math.sqrt(n_seeds * seed_variance / ((n_seeds - 1) * spread)), deviation


def seeds_needed(
    n_a: int,
    n_b: int,
    minimum: int = MIN_SEEDS,
    *,
    deterministic_a: bool = False,
    deterministic_b: bool = False,
) -> tuple[int, int]:
    """How many more seeds A and B need before a "better" verdict: ``(more_a, more_b)``.

    A model needs ``minimum`` seeds (5 by default), a deterministic one a single run. ``(0, 0)``
    means the pair can be judged.

    Example
    -------
    >>> seeds_needed(3, 5), seeds_needed(1, 2, deterministic_a=True)
    ((2, 0), (0, 3))
    """
    for name, n in (("n_a", n_a), ("n_b", n_b), ("minimum", minimum)):
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {n!r}")
    need_a = 1 if deterministic_a else minimum
    need_b = 1 if deterministic_b else minimum
    return max(0, need_a - n_a), max(0, need_b - n_b)


def format_p_value(p: float, alpha: float = ALPHA) -> str:
    """A p-value as text: two significant digits, never "0", never only a threshold.

    Below 1e-300 (including a 0.0 that a library returned after underflow) it reads
    "< 1e-300". A value that two digits would round onto ``alpha`` (0.0496 -> "0.05") gets
    more digits, so the text never contradicts the verdict beside it.

    Example
    -------
    >>> [format_p_value(p) for p in (0.5, 0.032, 0.0041, 9.8e-06, 0.0496, 0.0)]
    ['0.5', '0.032', '0.0041', '9.8e-06', '0.0496', '< 1e-300']
    """
    value = float(p)
    if math.isnan(value) or value < 0 or value > 1 + 1e-9:
        raise ValueError(f"a p-value lies in [0, 1], got {p!r}")
    value = min(value, 1.0)
    if value < P_VALUE_SMALLEST_SHOWN:
        return f"< {P_VALUE_SMALLEST_SHOWN:.0e}"
    text = f"{value:.2g}"
    digits = 2
    while float(text) == alpha and value != alpha and digits < 17:
        digits += 1
        text = f"{value:.{digits}g}"
    return text
