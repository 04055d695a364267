"""Statistics: our numbers against statsmodels/SciPy and hand-worked values; paired comparisons."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from bench.cli import main
from bench.results.pairwise import (
    NotComparable,
    compare_all,
    compare_models,
    short_verdict,
    verdict,
)
from bench.results.record import SCHEMA_VERSION, write_record
from bench.results.stats import (
    contingency_table,
    holm_adjust,
    mcnemar_exact_p,
    paired_bootstrap_difference,
    t_interval,
    wilson_interval,
)
from bench.run.spec import RunSpec


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


# --- paired comparison of records ----------------------------------------------------------


def fake_record(model: str, seed: int, labels, predictions, preset="default", dataset="digits"):
    """A minimal current-schema record with the fields comparisons read."""
    run = RunSpec(model=model, preset=preset, dataset=dataset, seed=seed, config={"epochs": 1})
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "status": "ok",
        **run.identity(),
        "config": dict(run.config),
        "run": run.to_dict(),
        "finished_at": f"2026-01-01T00:00:0{seed}+00:00",
        "environment": {"cpu_model": "test"},
        "metrics": {"accuracy": float(np.mean(labels == predictions)), "n_test": len(labels)},
        "predictions": predictions.tolist(),
        "test_labels": labels.tolist(),
    }


def two_models(n=10_000, seeds=(0, 1, 2), acc_a=0.99, acc_b=0.985, seed=0):
    """Records of models ``big`` and ``small`` whose answers are correlated like real models."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    hard = rng.random(n) < 0.02  # images both models tend to get wrong
    records = []
    for s in seeds:
        for name, acc in (("big", acc_a), ("small", acc_b)):
            right = np.where(hard, rng.random(n) < 0.5, rng.random(n) < (acc - 0.01) / 0.98)
            wrong = (labels + 1 + rng.integers(0, 9, n)) % 10
            records.append(fake_record(name, s, labels, np.where(right, labels, wrong)))
    return records


def test_compare_models_reports_statsmodels_numbers_per_seed():
    records = two_models()
    pair = compare_models(records, "big", "small", "digits")
    assert [s.seed for s in pair.seeds] == [0, 1, 2]
    for s in pair.seeds:
        a = next(r for r in records if r["model"] == "big" and r["seed"] == s.seed)
        b = next(r for r in records if r["model"] == "small" and r["seed"] == s.seed)
        labels = np.array(a["test_labels"])
        right_a, right_b = (
            np.array(a["predictions"]) == labels,
            np.array(b["predictions"]) == labels,
        )
        assert s.only_a == int(np.sum(right_a & ~right_b))
        assert s.only_b == int(np.sum(~right_a & right_b))
        assert s.p_value == pytest.approx(mcnemar(s.table, exact=True).pvalue)
        assert s.accuracy_a.estimate == pytest.approx(a["metrics"]["accuracy"])
        assert s.difference.estimate == pytest.approx(right_a.mean() - right_b.mean())
    assert pair.max_p == max(s.p_value for s in pair.seeds)


def test_no_common_seed_or_different_test_sets_are_refused_clearly():
    records = two_models(n=200, seeds=(0,))
    moved = [dict(r, seed=5) if r["model"] == "small" else r for r in records]
    with pytest.raises(NotComparable, match="share no seed.*big: seeds 0; small: seeds 5"):
        compare_models(moved, "big", "small", "digits")
    shorter = [
        dict(r, test_labels=r["test_labels"][:100], predictions=r["predictions"][:100])
        if r["model"] == "small"
        else r
        for r in records
    ]
    with pytest.raises(NotComparable, match="different test sets"):
        compare_models(shorter, "big", "small", "digits")
    with pytest.raises(NotComparable, match="no successful run of nope on digits"):
        compare_models(records, "big", "nope", "digits")
    with pytest.raises(NotComparable, match="with itself"):
        compare_models(records, "big", "big:default", "digits")


def test_verdicts_in_plain_words():
    clear = compare_models(two_models(acc_a=0.99, acc_b=0.95), "big", "small", "digits")
    assert verdict(clear).startswith("big is more accurate than small on digits")
    assert "significant on every one of the 3 seeds" in verdict(clear)
    assert short_verdict(clear, clear.max_p) == "**big** better"
    tie = compare_models(two_models(acc_a=0.99, acc_b=0.99, seed=3), "big", "small", "digits")
    assert verdict(tie).startswith("No significant difference between big and small")
    assert short_verdict(tie, tie.max_p) == "no significant difference"


def test_compare_all_applies_holm_over_pairs():
    records = two_models(n=2000, acc_a=0.99, acc_b=0.97)
    third = two_models(n=2000, acc_a=0.98, acc_b=0.98, seed=0)
    records += [dict(r, model="mid") for r in third if r["model"] == "small"]
    table = compare_all(records, "digits", ["big", "mid", "small"])
    assert [(p.label_a, p.label_b) for p in table.pairs] == [
        ("big", "mid"),
        ("big", "small"),
        ("mid", "small"),
    ]
    assert table.holm_p == pytest.approx(holm_adjust([p.max_p for p in table.pairs]))
    assert all(h >= p.max_p for h, p in zip(table.holm_p, table.pairs, strict=True))


def test_compare_command_matches_statsmodels_and_scipy(tmp_path, capsys):
    records = two_models(seeds=(0,))
    for record in records:
        write_record(tmp_path, record)
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    a, b = records
    labels = np.array(a["test_labels"])
    right_a = (np.array(a["predictions"]) == labels).astype(float)
    right_b = (np.array(b["predictions"]) == labels).astype(float)
    expected_p = mcnemar(contingency_table(labels, a["predictions"], b["predictions"]), exact=True)
    shown_p = float(re.search(r"largest over seeds: (\S+)", out).group(1))
    assert shown_p == pytest.approx(expected_p.pvalue, rel=1e-3)
    low, high = map(float, re.search(r"95% CI \[(\S+), (\S+)\]", out).groups())
    scipy_ci = scipy_stats.bootstrap(
        (right_a, right_b),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=10_000,
        rng=np.random.default_rng(0),
        batch=1000,
    ).confidence_interval
    assert low == pytest.approx(100 * scipy_ci.low, abs=0.03)
    assert high == pytest.approx(100 * scipy_ci.high, abs=0.03)
    assert "verdict: " in out and "Wilson" in out


def test_compare_command_errors_name_the_fix(tmp_path, capsys):
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path)]) == 2
    assert "train the two models first" in capsys.readouterr().err
    for record in two_models(n=100, seeds=(0,)):
        write_record(tmp_path, record)
        write_record(tmp_path, dict(record, seed=1, run_id=record["run_id"] + "x", dataset="x"))
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path)]) == 2
    assert "choose one with --dataset" in capsys.readouterr().err
