"""Comparing two models from their records: seed-level test, per-seed McNemar, verdicts, and
``bench compare`` (text and --json), against statsmodels and SciPy."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.contingency_tables import mcnemar
from synthetic_records import make_record

from bench.cli import main
from bench.results.stats.crossed import crossed_difference_test
from bench.results.stats.intervals import (
    contingency_table,
    format_p_value,
    two_level_bootstrap_difference,
)
from bench.results.stats.pairwise import (
    NotComparable,
    compare_models,
    needs_more_seeds,
    ranked_pairs,
    verdict,
    verdict_words,
)
from bench.results.store.files import write_record


def two_models(n=10_000, seeds=(0, 1, 2), acc_a=0.99, acc_b=0.985, seed=0, dataset="digits"):
    """Records of models ``big`` and ``small`` whose answers are correlated like real models."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    hard = rng.random(n) < 0.02  # images both models tend to get wrong
    records = []
    for s in seeds:
        for name, acc in (("big", acc_a), ("small", acc_b)):
            right = np.where(hard, rng.random(n) < 0.5, rng.random(n) < (acc - 0.01) / 0.98)
            wrong = (labels + 1 + rng.integers(0, 9, n)) % 10
            predictions = np.where(right, labels, wrong)
            records.append(make_record(name, s, labels, predictions, dataset=dataset))
    return records


def right_answers(records, model):
    runs = sorted((r for r in records if r.model == model), key=lambda r: r.seed)
    return np.stack([np.asarray(r.predictions) == np.asarray(r.test_labels) for r in runs])


def test_compare_models_reports_statsmodels_numbers_per_seed():
    records = two_models()
    pair = compare_models(records, "big", "small", "digits")
    assert [s.seed for s in pair.per_seed] == [0, 1, 2]
    for s in pair.per_seed:
        a = next(r for r in records if r.model == "big" and r.seed == s.seed)
        b = next(r for r in records if r.model == "small" and r.seed == s.seed)
        labels = np.array(a.test_labels)
        right_a, right_b = np.array(a.predictions) == labels, np.array(b.predictions) == labels
        assert s.only_a == int(np.sum(right_a & ~right_b))
        assert s.only_b == int(np.sum(~right_a & right_b))
        assert s.p_value == pytest.approx(mcnemar(s.table, exact=True).pvalue)
        assert s.accuracy_a.estimate == pytest.approx(a.accuracy)
        assert s.difference.estimate == pytest.approx(right_a.mean() - right_b.mean())
    # the deciding test is the crossed seeds x images t-test on all runs of each model
    expected = crossed_difference_test(
        right_answers(records, "big"), right_answers(records, "small")
    )
    assert (pair.difference.low, pair.difference.high) == (expected.low, expected.high)
    assert pair.p_value == expected.p_value and pair.cross_check is None
    checked = compare_models(records, "big", "small", "digits", cross_check_seed=3)
    bootstrap = two_level_bootstrap_difference(
        right_answers(records, "big"), right_answers(records, "small"), seed=3
    )
    assert checked.cross_check == bootstrap and checked.p_value == pair.p_value
    assert pair.seeds_a == pair.seeds_b == [0, 1, 2]


def test_models_with_different_seeds_are_still_compared_at_seed_level():
    records = two_models(n=2000, seeds=(0, 1, 2, 3))
    records = [r for r in records if not (r.model == "small" and r.seed in (0, 1))]
    pair = compare_models(records, "big", "small", "digits")
    assert (pair.seeds_a, pair.seeds_b) == ([0, 1, 2, 3], [2, 3])
    assert [s.seed for s in pair.per_seed] == [2, 3], "McNemar only on common seeds"
    assert pair.seeds_missing() == {"big": 1, "small": 3}
    assert needs_more_seeds(pair) == "needs 1 more seed of big and 3 more seeds of small"


def test_different_test_sets_and_missing_models_are_refused_clearly():
    records = two_models(n=200, seeds=(0,))
    small = next(r for r in records if r.model == "small")
    shorter = dataclasses.replace(
        small, test_labels=small.test_labels[:100], predictions=small.predictions[:100]
    )
    with pytest.raises(NotComparable, match="tested on other images.*100 labels vs 200"):
        compare_models([records[0], shorter], "big", "small", "digits")
    with pytest.raises(NotComparable, match="no successful run of nope on digits.*big, small"):
        compare_models(records, "big", "nope", "digits")
    with pytest.raises(NotComparable, match="with itself"):
        compare_models(records, "big", "big:default", "digits")


def test_verdicts_need_five_seeds_of_each_model():
    five = compare_models(
        two_models(n=3000, seeds=range(5), acc_a=0.99, acc_b=0.95), "big", "small", "digits"
    )
    assert five.winner() == "big"
    assert verdict(five).startswith("big is more accurate than small on digits")
    assert verdict_words(five, five.p_value) == "**big** better"
    three = compare_models(two_models(n=3000, acc_a=0.99, acc_b=0.95), "big", "small", "digits")
    assert three.winner() is None, "3 seeds each: not enough for a verdict"
    assert verdict_words(three, three.p_value) == (
        "big ahead; needs 2 more seeds of big and 2 more seeds of small"
    )
    assert "needs 2 more seeds of big" in verdict(three)
    tie = compare_models(
        two_models(n=3000, seeds=range(5), acc_a=0.99, acc_b=0.99, seed=3), "big", "small", "digits"
    )
    assert verdict(tie).startswith("No significant difference between big and small")
    resolution = f"80%-power resolution {100 * tie.minimum_detectable:.2f} points"
    assert verdict_words(tie, tie.p_value) == f"no significant difference; {resolution}"
    assert 0.001 < tie.minimum_detectable < 0.01
    # a correction that lifts p over the level takes the verdict away
    assert verdict_words(five, 0.2).startswith("no significant difference; 80%-power")


def test_a_deterministic_model_needs_one_run():
    records = two_models(n=3000, seeds=range(5), acc_a=0.99, acc_b=0.95)
    one = next(r for r in records if r.model == "small")
    fixed = dataclasses.replace(one, model_info={**one.model_info, "deterministic": True})
    records = [r for r in records if r.model == "big"] + [fixed]
    pair = compare_models(records, "big", "small", "digits")
    assert pair.deterministic_b and pair.seeds_missing() == {}
    assert pair.winner() == "big"


def test_ranked_pairs_grow_linearly():
    assert ranked_pairs(["a", "b", "c", "d"]) == [
        ("a", "b", "the best (next above)"),
        ("a", "c", "the best"),
        ("b", "c", "the next above"),
        ("a", "d", "the best"),
        ("c", "d", "the next above"),
    ]
    assert len(ranked_pairs([str(i) for i in range(20)])) == 2 * 20 - 3
    assert ranked_pairs(["only"]) == []


def test_compare_command_matches_statsmodels_and_scipy(tmp_path, capsys):
    records = two_models(seeds=(0,))
    for record in records:
        write_record(tmp_path, record)
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    a, b = records
    labels = np.array(a.test_labels)
    right_a = (np.array(a.predictions) == labels).astype(float)
    right_b = (np.array(b.predictions) == labels).astype(float)
    table = contingency_table(labels, a.predictions, b.predictions)
    seed_row = next(line for line in out.splitlines() if line.startswith("0 "))
    assert format_p_value(mcnemar(table, exact=True).pvalue) in seed_row
    low, high = map(float, re.search(r"95% CI \[(\S+), (\S+)\]", out).groups())
    # one seed each: the seed level collapses and the interval is the paired image bootstrap
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
    assert "verdict: " in out and "Wilson" in out and "needs 4 more seeds" in out


def test_compare_command_json(tmp_path, capsys):
    records = two_models(n=2000)
    for record in records:
        write_record(tmp_path, record)
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    pair = compare_models(records, "big", "small", "digits")
    assert data["dataset"] == "digits" and (data["a"], data["b"]) == ("big", "small")
    assert data["difference"]["estimate"] == pytest.approx(pair.difference.estimate)
    assert (data["difference"]["low"], data["difference"]["high"]) == pytest.approx(
        (pair.difference.low, pair.difference.high)
    )
    assert data["p_value"] == pytest.approx(pair.p_value)
    assert data["seeds_missing"] == {"big": 2, "small": 2} and data["winner"] is None
    assert [s["seed"] for s in data["per_seed"]] == [0, 1, 2]
    for row, s in zip(data["per_seed"], pair.per_seed, strict=True):
        assert row["mcnemar_p"] == pytest.approx(mcnemar(s.table, exact=True).pvalue)
        assert (row["only_a"], row["only_b"]) == (s.only_a, s.only_b)


def test_compare_command_errors_name_the_fix(tmp_path, capsys):
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path)]) == 2
    assert "train the two models first" in capsys.readouterr().err
    for record in two_models(n=100, seeds=(0,)) + two_models(n=100, seeds=(0,), dataset="x"):
        write_record(tmp_path, record)
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path), "--dataset", "x"]) == 0
    assert "big (A) vs small (B) on x:" in capsys.readouterr().out


def test_compare_shows_every_dataset_both_models_ran_on(tmp_path, capsys):
    for record in two_models(n=100, seeds=(0,)) + two_models(n=100, seeds=(0,), dataset="x"):
        write_record(tmp_path, record)
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.index("big (A) vs small (B) on digits:") < out.index("big (A) vs small (B) on x:")
    assert out.count("verdict: ") == 2
    assert main(["compare", "big", "small", "--results-dir", str(tmp_path), "--json"]) == 0
    assert [c["dataset"] for c in json.loads(capsys.readouterr().out)] == ["digits", "x"]
