"""Statistics: our numbers against statsmodels/SciPy and hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from scipy.special import expit
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from bench.results.stats.intervals import (
    MIN_SEEDS,
    contingency_table,
    format_p_value,
    holm_adjust,
    mcnemar_exact_p,
    paired_bootstrap_difference,
    seeds_needed,
    t_interval,
    two_level_bootstrap_difference,
    wilson_interval,
)


def test_wilson_matches_the_formula_and_statsmodels():
    correct, n, z = 9900, 10_000, scipy_stats.norm.ppf(0.975)
    p = correct / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    ci = wilson_interval(correct, n)
    assert ci.low == pytest.approx(centre - half, abs=1e-12)
    assert ci.high == pytest.approx(centre + half, abs=1e-12)
    assert (ci.low, ci.high) == pytest.approx(proportion_confint(correct, n, method="wilson"))
    # FACTS.md: at 99% on 10,000 images the interval is about +/-0.2 points
    assert 0.0015 < ci.half_width < 0.0025
    perfect = wilson_interval(450, 450)
    assert perfect.high == 1.0 and perfect.low < 1.0, "Wilson stays informative at 100%"
    with pytest.raises(ValueError, match="correct must lie"):
        wilson_interval(11, 10)


def test_t_interval_matches_scipy():
    values = [0.9912, 0.9890, 0.9925, 0.9901]
    ci = t_interval(values)
    low, high = scipy_stats.t.interval(
        0.95, df=3, loc=np.mean(values), scale=scipy_stats.sem(values)
    )
    assert (ci.low, ci.high) == pytest.approx((low, high), abs=1e-12)
    assert ci.estimate == pytest.approx(np.mean(values))
    assert t_interval([0.99]) is None, "one seed gives no interval over seeds"
    same = t_interval([0.95, 0.95, 0.95])
    assert (same.low, same.high) == pytest.approx((0.95, 0.95))


def test_contingency_table_and_mcnemar_by_hand():
    labels = np.array([0, 1, 2, 3, 4, 5])
    a = np.array([0, 1, 2, 3, 9, 9])  # right on the first four
    b = np.array([0, 9, 2, 9, 4, 9])  # right on 0, 2, 4
    table = contingency_table(labels, a, b)
    assert table.tolist() == [[2, 2], [1, 1]]
    # 2 vs 8 discordant images: p = 2 * P(X <= 2), X ~ Binomial(10, 1/2) = 2 * 56 / 1024
    assert mcnemar_exact_p(np.array([[90, 2], [8, 0]])) == pytest.approx(112 / 1024)
    assert mcnemar_exact_p(np.array([[5, 0], [0, 5]])) == 1.0, "identical answers: no evidence"


@pytest.mark.parametrize(("only_a", "only_b"), [(3, 17), (40, 61), (0, 9), (250, 250)])
def test_mcnemar_matches_statsmodels_and_scipy_binomtest(only_a, only_b):
    table = np.array([[9000, only_a], [only_b, 100]])
    ours = mcnemar_exact_p(table)
    assert ours == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
    n = only_a + only_b
    assert ours == pytest.approx(scipy_stats.binomtest(only_a, n, 0.5).pvalue, rel=1e-9)


def correctness(n: int, accuracy: float, rng: np.random.Generator) -> np.ndarray:
    return rng.random(n) < accuracy


def test_paired_bootstrap_matches_scipy_for_one_seed():
    rng = np.random.default_rng(1)
    a = correctness(1500, 0.97, rng)
    b = a.copy()
    flip = rng.random(1500) < 0.04  # B disagrees with A on ~4% of the images
    b[flip] = ~b[flip]
    ours = paired_bootstrap_difference(a, b)
    theirs = scipy_stats.bootstrap(
        (a.astype(float), b.astype(float)),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=10_000,
        rng=np.random.default_rng(7),
    )
    assert ours.estimate == pytest.approx(a.mean() - b.mean())
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=1e-3)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=1e-3)
    assert ours.low < ours.estimate < ours.high


def test_paired_bootstrap_matches_scipy_over_several_seeds():
    rng = np.random.default_rng(2)
    a = np.stack([correctness(1000, 0.95, rng) for _ in range(3)])
    b = np.stack([correctness(1000, 0.93, rng) for _ in range(3)])
    ours = paired_bootstrap_difference(a, b)

    def mean_difference(*samples, axis):
        return np.mean([s.mean(axis=axis) for s in samples[:3]], axis=0) - np.mean(
            [s.mean(axis=axis) for s in samples[3:]], axis=0
        )

    theirs = scipy_stats.bootstrap(
        tuple(a.astype(float)) + tuple(b.astype(float)),
        mean_difference,
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=10_000,
        rng=np.random.default_rng(8),
    )
    assert ours.estimate == pytest.approx(a.mean() - b.mean())
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=1.5e-3)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=1.5e-3)


def test_holm_by_hand():
    # sorted: 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> made monotone: 0.06
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([]) == []


def test_holm_over_every_test_of_a_page():
    mnist = [0.01, 0.04, 0.03]  # three pairs on one dataset
    fashion = np.array([0.002, 0.2])  # two on another, as a NumPy array
    # all five at once, by hand: sorted 0.002*5 = 0.01, 0.01*4 = 0.04, 0.03*3 = 0.09,
    # 0.04*2 = 0.08 -> monotone 0.09, 0.2*1 = 0.2; returned in the order given
    together = holm_adjust([*mnist, *fashion])
    assert together == pytest.approx([0.04, 0.09, 0.09, 0.01, 0.2])
    # adjusting each dataset on its own would be too lenient: 0.03 < 0.04, 0.004 < 0.01
    assert holm_adjust(mnist)[0] < together[0] and holm_adjust(fashion)[0] < together[3]
    # any iterable, any order: the same adjusted value follows each p-value
    order = [4, 2, 0, 3, 1]
    shuffled = holm_adjust(p for p in np.array([*mnist, *fashion])[order])
    assert shuffled == pytest.approx(np.array(together)[order].tolist())
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        holm_adjust([0.01, float("nan")])


# --- seed-level inference --------------------------------------------------------------------


def index_resampling_reference(a, b, resamples, rng):
    """The plain two-level scheme written literally: draw seed and image indices, gather."""
    out = np.empty(resamples)
    for r in range(resamples):
        images = rng.integers(0, a.shape[1], a.shape[1])
        seeds_a = rng.integers(0, len(a), len(a))
        seeds_b = rng.integers(0, len(b), len(b))
        out[r] = a[seeds_a][:, images].mean() - b[seeds_b][:, images].mean()
    return out


def test_plain_two_level_scheme_matches_literal_index_resampling():
    rng = np.random.default_rng(11)
    n = 400
    hard = rng.random(n) < 0.1
    a = np.stack([np.where(hard, rng.random(n) < 0.5, rng.random(n) < 0.97) for _ in range(3)])
    b = np.stack(
        [np.where(hard, rng.random(n) < 0.3, rng.random(n) < q) for q in (0.9, 0.93, 0.95, 0.96)]
    )
    ours = two_level_bootstrap_difference(a, b, resamples=20_000, seed_noise_correction=False)
    reference = index_resampling_reference(a, b, 20_000, np.random.default_rng(5))
    assert ours.estimate == pytest.approx(a.mean() - b.mean())
    assert ours.low == pytest.approx(np.percentile(reference, 2.5), abs=2e-3)
    assert ours.high == pytest.approx(np.percentile(reference, 97.5), abs=2e-3)
    assert (ours.seeds_a, ours.seeds_b, ours.n_images) == (3, 4, 400)


def test_deterministic_models_collapse_to_the_paired_image_bootstrap():
    rng = np.random.default_rng(4)
    a = correctness(3000, 0.96, rng)
    b = np.where(rng.random(3000) < 0.05, ~a, a)
    paired = paired_bootstrap_difference(a, b, seed=3)
    one_seed = two_level_bootstrap_difference(a[None], b[None], seed=3)
    assert (one_seed.low, one_seed.high) == pytest.approx((paired.low, paired.high), abs=1e-12)
    assert one_seed.seed_scale_a == one_seed.seed_scale_b == 0.0
    # a deterministic model run five times gives five identical rows: the same answer
    five_same = two_level_bootstrap_difference(np.tile(a, (5, 1)), np.tile(b, (5, 1)), seed=3)
    assert (five_same.low, five_same.high) == pytest.approx((paired.low, paired.high), abs=1e-12)
    # deterministic A (one run) against B with seed-to-seed variation: only B's seeds count
    b_seeds = np.stack([np.where(rng.random(3000) < 0.03 * k, ~b, b) for k in range(1, 6)])
    mixed = two_level_bootstrap_difference(a, b_seeds, seed=3)
    assert mixed.seeds_a == 1 and mixed.seed_scale_a == 0.0 and mixed.seed_scale_b > 0.5
    assert mixed.high - mixed.low > paired.high - paired.low
    # same accuracy on every seed, different images right: no visible seed spread (the mean of
    # equal accuracies must not leave a 1e-17 residue that reads as spread)
    # (logreg on MNIST: three seeds at 92.54%, and float mean([x, x, x]) != x for x = 0.9254)
    base = rng.permutation(np.arange(10_000) < 9254)
    rolled = np.stack([np.roll(base, k) for k in range(3)])
    assert rolled.mean(axis=1).mean() != 0.9254 and not (rolled[0] == rolled[1]).all()
    other = rng.random((3, 10_000)) < 0.9
    same_accuracy = two_level_bootstrap_difference(rolled, other, resamples=2000)
    assert same_accuracy.seed_scale_a == 0.0
    repeated = two_level_bootstrap_difference(np.tile(base, (3, 1)), other, resamples=2000)
    assert repeated.seed_scale_a == 0.0
    identical = two_level_bootstrap_difference(a, a)
    assert identical.p_value == 1.0 and identical.low == identical.high == 0.0


@pytest.mark.parametrize("seed_sd", [0.0, 0.4])
def test_two_level_interval_matches_a_direct_simulation(seed_sd):
    """Many independent experiments from a known model: new seeds and new test images each.

    P(right) = sigmoid(alpha_model + 1.5 * difficulty_image + seed_effect), difficulty shared by
    both models, seed_effect ~ N(0, seed_sd^2) per training run; the estimator's true spread is
    its standard deviation over the experiments.
    """
    rng = np.random.default_rng(0)
    n, seeds, experiments, resamples = 1000, 5, 200, 1000
    alpha_a, alpha_b, beta = 3.0, 2.7, 1.5
    z = rng.standard_normal(1_000_000)
    truth = np.mean(
        expit(alpha_a + beta * z + seed_sd * rng.standard_normal(len(z)))
        - expit(alpha_b + beta * z + seed_sd * rng.standard_normal(len(z)))
    )
    estimates, widths, covered, paired_widths, paired_covered = [], [], [], [], []
    for e in range(experiments):
        difficulty = rng.standard_normal(n)

        def runs(alpha, difficulty=difficulty):
            effect = seed_sd * rng.standard_normal((seeds, 1))
            return rng.random((seeds, n)) < expit(alpha + beta * difficulty + effect)

        a, b = runs(alpha_a), runs(alpha_b)
        test = two_level_bootstrap_difference(a, b, resamples=resamples, seed=e)
        paired = paired_bootstrap_difference(a, b, n_resamples=resamples, seed=e)
        estimates.append(test.estimate)
        widths.append(test.high - test.low)
        covered.append(test.low <= truth <= test.high)
        paired_widths.append(paired.high - paired.low)
        paired_covered.append(paired.low <= truth <= paired.high)
    true_width = 2 * scipy_stats.norm.ppf(0.975) * np.std(estimates, ddof=1)
    width_ratio = np.mean(widths) / true_width
    versus_paired = np.mean(np.array(widths) / np.array(paired_widths))
    if seed_sd == 0:
        # no training-seed effect: about the paired image bootstrap, about the true spread
        assert 0.9 < width_ratio < 1.3
        assert 1.0 <= versus_paired < 1.25
        assert np.mean(covered) >= 0.93
    else:
        # seed effects: the image-only bootstrap misses most of the spread, ours does not
        assert 0.85 < width_ratio < 1.2
        assert np.mean(covered) >= 0.85, "5 seeds: a little under 95% (tails of a 5-value mean)"
        assert np.mean(paired_covered) < 0.6
        assert versus_paired > 2.5


def test_plain_scheme_counts_test_noise_twice():
    """Without the correction, per-seed accuracies carry test-image noise into the seed level."""
    rng = np.random.default_rng(8)
    difficulty = rng.standard_normal(2000)
    a = rng.random((5, 2000)) < expit(3.0 + 1.5 * difficulty)
    b = rng.random((5, 2000)) < expit(2.7 + 1.5 * difficulty)
    paired = paired_bootstrap_difference(a, b, n_resamples=4000)
    corrected = two_level_bootstrap_difference(a, b, resamples=4000)
    plain = two_level_bootstrap_difference(a, b, resamples=4000, seed_noise_correction=False)
    width = {
        name: t.high - t.low
        for name, t in [("paired", paired), ("corrected", corrected), ("plain", plain)]
    }
    assert width["corrected"] < 1.25 * width["paired"]
    assert width["plain"] > 1.4 * width["paired"]


def test_p_value_agrees_with_the_interval_and_is_never_zero():
    rng = np.random.default_rng(9)
    resamples = 4000
    for gap in np.linspace(0.0, 0.03, 16):
        a = rng.random((5, 1500)) < 0.95
        b = rng.random((4, 1500)) < 0.95 - gap
        test = two_level_bootstrap_difference(a, b, resamples=resamples)
        assert test.p_floor <= test.p_value <= 1.0
        if abs(test.p_value - 0.05) > 3 / (resamples + 1):
            excludes_zero = test.low > 0 or test.high < 0
            assert (test.p_value < 0.05) == excludes_zero, (gap, test)
    far = two_level_bootstrap_difference(np.ones((5, 500), bool), np.zeros((5, 500), bool))
    assert far.p_value == far.p_floor == pytest.approx(2 / 10_001)
    assert far.estimate == 1.0


def test_two_level_refuses_bad_input():
    with pytest.raises(ValueError, match="same test images: 10 vs 12"):
        two_level_bootstrap_difference(np.ones((2, 10), bool), np.ones((2, 12), bool))
    with pytest.raises(ValueError, match="right/wrong answers"):
        two_level_bootstrap_difference(np.full((2, 10), 0.5), np.ones((2, 10)))
    with pytest.raises(ValueError, match="at least 2 test images"):
        two_level_bootstrap_difference(np.ones((2, 1), bool), np.ones((2, 1), bool))


def test_seeds_needed_for_a_verdict():
    assert MIN_SEEDS == 5
    assert seeds_needed(5, 7) == (0, 0)
    assert seeds_needed(3, 5) == (2, 0)
    assert seeds_needed(0, 1) == (5, 4)
    assert seeds_needed(1, 5, deterministic_a=True) == (0, 0)
    assert seeds_needed(0, 2, deterministic_a=True, deterministic_b=True) == (1, 0)
    assert seeds_needed(2, 2, minimum=3) == (1, 1)
    with pytest.raises(ValueError, match="n_a must be a whole number"):
        seeds_needed(-1, 5)


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (0.032, "0.032"),
        (0.03249, "0.032"),
        (0.0041, "0.0041"),
        (0.00041, "0.00041"),
        (9.8e-06, "9.8e-06"),
        (1.234e-120, "1.2e-120"),
        (0.05, "0.05"),
        (0.0496, "0.0496"),  # two digits would read 0.05 beside a "significant" verdict
        (0.0504, "0.0504"),
        (0.049996, "0.049996"),
        (1e-300, "1e-300"),
        (5e-310, "< 1e-300"),  # subnormal
        (0.0, "< 1e-300"),
        (1 + 1e-12, "1"),  # rounding above 1 in a library
    ],
)
def test_format_p_value(p, text):
    assert format_p_value(p) == text


def test_format_p_value_for_library_p_values():
    # McNemar, 0 vs 900 discordant images: 2 * 0.5**900, far below what "<0.0001" said
    tiny = mcnemar_exact_p(np.array([[9000, 0], [900, 100]]))
    assert tiny == pytest.approx(2 * 0.5**900, rel=1e-9)
    assert format_p_value(tiny) == f"{2 * 0.5**900:.2g}" == "2.4e-271"
    # 0 vs 5000: underflows to 0.0 in statsmodels; shown as a bound, never as "0"
    assert format_p_value(mcnemar_exact_p(np.array([[4000, 0], [5000, 0]]))) == "< 1e-300"
    for bad in (float("nan"), -0.01, 1.5):
        with pytest.raises(ValueError, match="a p-value lies in"):
            format_p_value(bad)
