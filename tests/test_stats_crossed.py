"""The crossed seeds x images t-test: its error rate under the null, its arithmetic against
SciPy, its resolution and equivalence helpers, and its verdicts on the committed records."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from bench.results.stats.crossed import (
    crossed_difference_test,
    crossed_mean_interval,
    equivalence_words,
    minimum_detectable_difference,
    seeds_to_resolve,
    tost_p_value,
)

sys.path.insert(0, str(Path(__file__).resolve().parent / "simulations"))
from null_crossed import null_experiments, t_test_rates  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seed_sd_points", [0.0, 0.1, 0.2, 0.3])
def test_false_better_rate_is_the_nominal_one(seed_sd_points):
    # two identical models, 5 seeds each, 10,000 test images at 99%: "better" in at most
    # 6% of experiments at alpha 0.05 and at most twice the nominal rate at 0.005
    rng = np.random.default_rng(26 + int(100 * seed_sd_points))
    rates = []
    for _ in range(2):  # 2 x 2,500 experiments: bounded memory
        a, b, w = null_experiments(rng, 2_500, seed_sd_points / 100)
        rates.append(t_test_rates(a, b, w, (0.05, 0.005)))
    at_05, at_005 = np.mean(rates, axis=0)
    assert at_05 <= 0.06, at_05
    assert at_005 <= 2 * 0.005, at_005
    assert at_05 >= 0.03, "a test that never rejects would pass the bounds: it must not"


def test_one_seed_each_is_the_paired_t_test_on_images():
    rng = np.random.default_rng(1)
    a = rng.random(3000) < 0.9
    b = rng.random(3000) < 0.88
    ours = crossed_difference_test(a, b)
    reference = scipy_stats.ttest_rel(a.astype(float), b.astype(float))
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert ours.df == pytest.approx(2999)
    low, high = reference.confidence_interval(0.95)
    assert (ours.low, ours.high) == pytest.approx((low, high), rel=1e-9)


def test_a_deterministic_model_has_no_seed_level_and_a_seeded_one_keeps_it():
    rng = np.random.default_rng(2)
    one = rng.random(2000) < 0.95
    fixed = crossed_mean_interval(np.tile(one, (5, 1)))
    single = crossed_mean_interval(one)
    assert (fixed.low, fixed.high) == pytest.approx((single.low, single.high))
    low, high = scipy_stats.ttest_1samp(one.astype(float), 0).confidence_interval(0.95)
    assert (fixed.low, fixed.high) == pytest.approx((low, high), rel=1e-9)
    # five seeds whose accuracies spread less than test noise alone would make them: the
    # ANOVA estimate of the seed variance is 0, yet the seed level keeps its full spread
    seeds = np.stack([np.roll(one, k) for k in range(5)])
    seeds[1, np.flatnonzero(~seeds[1])[0]] = True
    test = crossed_difference_test(seeds, one)
    accuracies = seeds.mean(axis=1)
    assert test.seed_part_a == pytest.approx(accuracies.var(ddof=1) / 5)
    assert test.seed_part_a > 0
    from bench.results.stats.intervals import _seed_deviations

    assert _seed_deviations(seeds)[0] == 0.0, "the old bootstrap dropped this seed level"


def test_seed_spread_widens_the_interval_and_lowers_the_degrees_of_freedom():
    rng = np.random.default_rng(3)
    base = rng.random(5000)
    tight = np.stack([base < 0.95 for _ in range(5)])
    shifts = np.array([-0.01, -0.005, 0, 0.005, 0.01])
    loose = np.stack([base < 0.95 + s for s in shifts])
    other = rng.random((5, 5000)) < 0.94
    narrow, wide = crossed_difference_test(tight, other), crossed_difference_test(loose, other)
    assert wide.high - wide.low > 1.5 * (narrow.high - narrow.low)
    assert wide.df < narrow.df


def test_resolution_and_seeds_needed():
    rng = np.random.default_rng(4)
    a = rng.random((5, 10_000)) < 0.99
    b = rng.random((5, 10_000)) < 0.99
    test = crossed_difference_test(a, b)
    expected = (scipy_stats.t.ppf(0.975, test.df) + scipy_stats.t.ppf(0.8, test.df)) * (
        test.standard_error
    )
    assert test.minimum_detectable == pytest.approx(expected)
    assert minimum_detectable_difference(test.standard_error, np.inf) == pytest.approx(
        2.8016 * test.standard_error, rel=1e-4
    )
    k = seeds_to_resolve(test, 0.8 * test.minimum_detectable)
    assert k is not None and k > 5
    assert seeds_to_resolve(test, test.minimum_detectable) <= 5
    assert seeds_to_resolve(test, 1e-6) is None, "the image level alone is wider"


def test_tost_agrees_with_the_90_percent_interval():
    for estimate, se, df in [(0.0002, 0.0003, 8), (0.0006, 0.0003, 8), (-0.0001, 0.0006, 20)]:
        half = scipy_stats.t.ppf(0.95, df) * se
        inside = estimate - half > -0.001 and estimate + half < 0.001
        assert (tost_p_value(estimate, se, df, 0.001) < 0.05) == inside
    assert equivalence_words(0.001, 0.01) == "equivalent"
    with pytest.raises(ValueError, match="margin"):
        tost_p_value(0.0, 0.1, 5, 0.0)


def test_refuses_bad_input():
    with pytest.raises(ValueError, match="same test images"):
        crossed_difference_test(np.ones((2, 10), bool), np.ones((2, 12), bool))
    with pytest.raises(ValueError, match="right/wrong"):
        crossed_difference_test(np.full((2, 10), 0.5), np.ones((2, 10)))


def test_committed_verdicts_do_not_depend_on_the_resampling_seed():
    from bench.results.report.aggregate import (
        accuracy_intervals,
        dataset_frame,
        model_order,
        pairwise_frame,
        race_orders,
        run_frame,
        summary_frame,
    )
    from bench.results.stats.pairwise import Answers
    from bench.results.store.stale import current_records

    results = ROOT / "results"
    if not any((results / "runs").glob("*/record.json")):
        pytest.skip("no committed records under results/runs")
    records = [r for r in current_records(results).current if r.ok and r.dataset == "mnist"]
    records = [r for r in records if r.dataset_info.get("protocol") != "test-as-validation"]
    answers = Answers()
    summary = summary_frame(
        run_frame(records),
        dataset_frame(records).index.tolist(),
        accuracy_intervals(records, answers),
    )
    # the close calls: the six best MNIST models (where the old bootstrap's verdict flipped)
    races = {
        ("mnist", "defaults"): race_orders(summary, model_order(summary))[("mnist", "defaults")][:6]
    }
    verdicts, bootstrap_p = set(), set()
    for seed in range(20):
        frame, _ = pairwise_frame(records, races, answers, cross_check_seed=seed)
        verdicts.add(tuple(frame["verdict"]))
        bootstrap_p.add(tuple(frame["p_bootstrap"].round(6)))
    assert len(verdicts) == 1, "a verdict moved with the resampling seed"
    assert len(bootstrap_p) > 1, "the cross-check must have used the seeds"
