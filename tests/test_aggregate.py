"""The report's numbers: aggregate is pure, and its frames equal hand, SciPy and statsmodels
computations on records of real small fits (scikit-learn on digits) and simulated models."""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from sklearn.datasets import load_digits
from sklearn.naive_bayes import GaussianNB
from statsmodels.stats.multitest import multipletests
from synthetic_records import digits_records, make_record, simulated_records, speed_timings

import bench.results as results_package
from bench.measure.calibration import reliability_bins
from bench.results.report.aggregate import BUSY_PEAK_SHORTFALL, aggregate
from bench.results.report.article_log import ARTICLE_CONFUSION_DIAGONAL, ARTICLE_VAL_ACCURACY
from bench.results.report.markdown import (
    backend_lines,
    hosts_note,
    leaderboard_markdown,
    main_table,
    time_to_accuracy_table,
)
from bench.results.report.markdown_runs import runs_markdown
from bench.results.report.robustness import relative_corruption_error, relative_mce
from bench.results.stats.crossed import crossed_mean_interval
from bench.results.stats.intervals import format_p_value
from bench.results.stats.pairwise import compare_models, ranked_pairs
from bench.results.stats.replication import reproduction_test, sign_test
from bench.results.stats.speed import probes_agree
from bench.results.store.record import RunError, RunRecord

PURE_MODULES = [
    "report/aggregate.py",
    "report/frames_backends.py",
    "report/frames_detail.py",
    "report/frames_reference.py",
    "report/frames_robustness.py",
    "stats/pairwise.py",
    "report/markdown.py",
    "report/markdown_closing.py",
    "report/markdown_format.py",
    "report/markdown_runs.py",
    "report/figures.py",
    "report/figure_style.py",
]


@pytest.fixture(scope="module")
def records():
    return digits_records()


@pytest.fixture(scope="module")
def agg(records):
    return aggregate(records)


def test_aggregate_is_pure(records, agg, monkeypatch):
    before = [copy.deepcopy(r.to_dict()) for r in records]

    def refuse(*args, **kwargs):
        raise AssertionError(f"aggregate touched a file: {args[:1]}")

    for target in (builtins, io):
        monkeypatch.setattr(target, "open", refuse)
    monkeypatch.setattr(os, "open", refuse)
    again = aggregate(list(reversed(records)))
    monkeypatch.undo()
    assert [r.to_dict() for r in records] == before, "records are not modified"
    for name in ("summary", "pairwise", "time_to_accuracy", "per_class", "calibration"):
        left, right = getattr(agg, name), getattr(again, name)
        pd.testing.assert_frame_equal(
            left.drop(columns=["pair"], errors="ignore"),
            right.drop(columns=["pair"], errors="ignore"),
        )
    assert agg.order == again.order and agg.reliability == again.reliability


@pytest.mark.parametrize("module", PURE_MODULES)
def test_report_modules_import_no_clock_and_no_files(module):
    tree = ast.parse((Path(results_package.__path__[0]) / module).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert not imported & {"time", "datetime", "os", "pathlib", "shutil"}, imported
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert "open" not in calls


def test_summary_numbers_equal_scipy_and_statsmodels(records, agg):
    mlp = sorted((r for r in records if r.model == "mlp"), key=lambda r: r.seed)
    accuracies = [r.accuracy for r in mlp]
    row = agg.summary.loc[("digits", "mlp")]
    right = np.stack([np.array(r.predictions) == np.array(r.test_labels) for r in mlp])
    crossed = crossed_mean_interval(right)
    assert row["accuracy"] == pytest.approx(np.mean(accuracies))
    assert (row["acc_low"], row["acc_high"]) == pytest.approx((crossed.low, crossed.high))
    assert row["acc_method"] == "t over seeds and test images" and row["n_seeds"] == 3
    assert row["acc_seed_sd"] == pytest.approx(np.std(accuracies, ddof=1))
    f1 = [r.metrics["macro_f1"] for r in mlp]
    assert row["macro_f1"] == pytest.approx(np.mean(f1))
    assert row["macro_f1_hw"] == pytest.approx(scipy_stats.t.ppf(0.975, 2) * scipy_stats.sem(f1))
    clocks = [r.train_seconds for r in mlp]
    assert (row["train_s_median"], row["train_s_min"], row["train_s_max"]) == pytest.approx(
        (np.median(clocks), min(clocks), max(clocks))
    )
    assert row["ece"] == pytest.approx(np.mean([r.metrics["ece"] for r in mlp]))
    # logreg gives the same predictions for every seed: the same model reduces to the t
    # interval over one run's test images, and no seed spread is shown
    logreg = next(r for r in records if r.model == "logreg")
    fixed = agg.summary.loc[("digits", "logreg")]
    answers = (np.array(logreg.predictions) == np.array(logreg.test_labels)).astype(float)
    expected = scipy_stats.ttest_1samp(answers, 0).confidence_interval(0.95)
    assert (fixed["acc_low"], fixed["acc_high"]) == pytest.approx(tuple(expected))
    assert fixed["deterministic"] and np.isnan(fixed["acc_seed_sd"])
    assert np.isnan(fixed["macro_f1_hw"]), "no seed spread shown for a deterministic model"


def test_model_order_is_decided_here(agg):
    means = agg.summary["accuracy"].loc["digits"]
    assert agg.order["digits"] == list(means.sort_values(ascending=False).index)
    assert agg.summary.loc[("digits", agg.order["digits"][0]), "rank"] == 1


def test_pairwise_frame_runs_ranked_tests_with_holm_over_every_dataset():
    models = [("big", 0.99), ("mid", 0.985), ("small", 0.97)]
    records = simulated_records(
        models, seeds=range(5), datasets=("mnist", "fashion_mnist"), n_test=3000
    )
    agg = aggregate(records)
    frame = agg.pairwise
    assert len(frame) == 2 * len(ranked_pairs(["big", "mid", "small"]))
    expected = multipletests(frame["p"].tolist(), method="holm")[1]
    assert frame["p_holm"].tolist() == pytest.approx(list(expected))
    for row in frame.itertuples():
        pair = compare_models(records, row.model_a, row.model_b, row.dataset, False)
        assert row.p == pair.p_value
        mean_a = np.mean(
            [r.accuracy for r in records if (r.label, r.dataset) == (row.model_a, row.dataset)]
        )
        mean_b = np.mean(
            [r.accuracy for r in records if (r.label, r.dataset) == (row.model_b, row.dataset)]
        )
        assert row.diff == pytest.approx(100 * (mean_a - mean_b))
        assert [m[0] for m in row.mcnemar] == list(range(5))
    big_small = frame[(frame["model_a"] == "big") & (frame["model_b"] == "small")]
    assert (big_small["verdict"] == "**big** better").all()
    matrix = agg.differences["mnist"]
    assert matrix.loc["big", "small"] == pytest.approx(-matrix.loc["small", "big"])


def test_datasets_come_in_report_order():
    records = simulated_records(
        [("a", 0.99), ("b", 0.98)],
        seeds=(0,),
        datasets=("fashion_mnist", "digits", "mnist"),
        n_test=200,
    )
    agg = aggregate(records)
    assert list(agg.order) == ["mnist", "fashion_mnist", "digits"]
    assert list(agg.datasets.index) == ["mnist", "fashion_mnist", "digits"]
    assert agg.datasets.at["fashion_mnist", "title"] == "Fashion-MNIST"


def test_time_to_accuracy_frame_takes_medians_of_the_recorded_clock(records, agg):
    mlp = [r for r in records if r.model == "mlp"]
    frame = agg.time_to_accuracy.set_index(["model", "target"])
    for target in (0.90, 0.95, 0.97):
        times = [r.timings["time_to_accuracy"].get(f"{target:g}") for r in mlp]
        reached = [t for t in times if t is not None]
        row = frame.loc[("mlp", target)]
        assert (row["reached"], row["n_seeds"]) == (len(reached), 3)
        if reached:
            assert row["median_s"] == pytest.approx(np.median(reached))
    assert (frame.loc["logreg", "reached"] == 0).all()


def test_reliability_bins_pool_seeds_like_one_stacked_set():
    x, y = load_digits(return_X_y=True)
    test = np.arange(1400, len(y))
    probas, runs = [], []
    for seed in (0, 1):
        train = np.random.default_rng(seed).choice(1400, 700, replace=False)
        proba = GaussianNB().fit(x[train], y[train]).predict_proba(x[test])
        probas.append(proba)
        runs.append(make_record("nb", seed, y[test], proba.argmax(axis=1), proba))
    pooled = aggregate(runs).reliability["digits"]["nb"]
    stacked = reliability_bins(np.vstack(probas), np.concatenate([y[test], y[test]])).to_dict()
    assert pooled["counts"] == stacked["counts"]
    for ours, theirs in zip(pooled["accuracy"], stacked["accuracy"], strict=True):
        assert (ours is None and theirs is None) or ours == pytest.approx(theirs)


def test_runs_on_a_busy_machine_are_flagged():
    labels = np.arange(200) % 10
    records = [
        make_record("m", seed, labels, labels, timings=speed_timings(10.0, 100.0, peak))
        for seed, peak in enumerate((300.0, 310.0, 290.0, 200.0))
    ]
    runs = aggregate(records).runs.set_index("seed")
    median = np.median([300.0, 310.0, 290.0, 200.0])
    assert 200.0 < (1 - BUSY_PEAK_SHORTFALL) * median < 290.0
    assert runs["busy"].to_dict() == {0: False, 1: False, 2: False, 3: True}


def test_busy_runs_are_left_out_of_the_speeds_and_the_probe_range_is_stated():
    labels = np.arange(200) % 10
    clocks = ((10.0, 100.0, 300.0), (12.0, 90.0, 310.0), (11.0, 95.0, 290.0), (40.0, 20.0, 150.0))
    records = [
        make_record("m", seed, labels, labels, timings=speed_timings(*clock))
        for seed, clock in enumerate(clocks)
    ]
    agg = aggregate(records)
    row = agg.summary.loc[("digits", "m")]
    assert row["n_seeds"] == 4 and row["timed_runs"] == 3, "the busy run keeps its accuracy"
    assert (row["train_s_median"], row["train_s_min"], row["train_s_max"]) == (11.0, 10.0, 12.0)
    assert row["train_samples_per_s"] == 95.0 and row["train_samples_per_s_max"] == 100.0
    assert (row["probe_gflops_min"], row["probe_gflops_max"]) == (290.0, 310.0)
    text = runs_markdown(agg, generated="now")  # the full table, with every speed column
    m_row = next(line for line in text.splitlines() if line.startswith("| **m**"))
    assert "| 95 [90–100] " in m_row and "| 300 [290–310] " in m_row
    flat = " ".join(text.split())
    assert "the matmul probe of these runs read 290–310 GFLOP/s" in flat
    assert "they are left out of every speed column" in flat
    assert probes_agree(300.0, 275.0) and not probes_agree(300.0, 265.0)


def test_timings_from_several_hosts_and_failed_runs_are_shown():
    labels = np.arange(200) % 10
    records = []
    for seed, host in ((0, "a"), (1, "b")):
        record = make_record("m", seed, labels, labels, timings=speed_timings(1.0, 9.0, 100.0))
        record.environment = {**record.environment, "hostname": host}
        records.append(record)
    other = make_record("n", 0, labels, labels)
    other.environment = {**other.environment, "hostname": "a"}
    records.append(other)
    broken = RunRecord.failed(
        records[0].run,
        RunError("ValueError", "this model is broken on purpose"),
        started_at="",
        finished_at="",
    )
    broken.run = dataclasses.replace(broken.run, model="broken")
    agg = aggregate([*records, broken])
    assert agg.summary.loc[("digits", "m"), "hosts"] == "a (Test CPU); b (Test CPU)"
    table = main_table(agg, "digits")
    assert "Timed on" in table.splitlines()[0]
    assert "Timings from 2 different hosts" in hosts_note(agg, "digits")[0]
    text = leaderboard_markdown(agg, generated="now")
    assert "## Failed runs" in text
    assert "- broken on digits, seed 0: ValueError: this model is broken on purpose" in text


def test_identical_predictions_on_every_seed_count_as_deterministic():
    labels = np.arange(300) % 10
    predictions = np.where(np.arange(300) % 7 == 0, (labels + 1) % 10, labels)
    records = [make_record("knn", seed, labels, predictions) for seed in (0, 1, 2)]
    row = aggregate(records).summary.loc[("digits", "knn")]
    assert row["deterministic"] and row["acc_low"] < row["accuracy"] < row["acc_high"]


def tutorial_run(seed, shift):
    """An article_cnn run under the tutorial's protocol, with made-up but plausible numbers."""
    labels = np.repeat(np.arange(10), 20)
    history = [
        {"epoch": e, "loss": 1.0, "val_accuracy": a + shift}
        for e, a in enumerate(ARTICLE_VAL_ACCURACY, start=1)
    ]
    predictions = np.where(np.arange(200) % (5 + seed) == 0, (labels + 1) % 10, labels)
    return make_record(
        "article_cnn",
        seed,
        labels,
        predictions,
        dataset="mnist",
        preset="tutorial",
        protocol="test-as-validation",
        history=history,
    )


def test_replication_puts_the_article_beside_our_seeds():
    runs = [tutorial_run(0, 0.01), tutorial_run(1, -0.004), tutorial_run(2, 0.003)]
    agg = aggregate(runs)
    epochs = agg.replication_epochs.set_index("epoch")
    assert list(epochs.index) == list(range(1, 10))
    ours = [ARTICLE_VAL_ACCURACY[0] + s for s in (0.01, -0.004, 0.003)]
    low, high = scipy_stats.t.interval(0.95, 2, loc=np.mean(ours), scale=scipy_stats.sem(ours))
    assert epochs.loc[1, "article"] == ARTICLE_VAL_ACCURACY[0]
    assert epochs.loc[1, "ours"] == pytest.approx(np.mean(ours))
    assert (epochs.loc[1, "low"], epochs.loc[1, "high"]) == pytest.approx((low, high))
    assert epochs.loc[1, "difference"] == pytest.approx(0.003)
    diagonal = agg.replication_diagonal.set_index("digit")
    mine = [np.diag(np.asarray(r.metrics["confusion_matrix"])) for r in runs]
    assert diagonal["article"].tolist() == list(ARTICLE_CONFUSION_DIAGONAL)
    assert diagonal["ours"].tolist() == pytest.approx(np.mean(mine, axis=0).tolist())
    # runs validated on a held-out split are not a replication of the article's protocol
    holdout = [
        dataclasses.replace(r, dataset_info={**r.dataset_info, "protocol": "holdout"}) for r in runs
    ]
    assert aggregate(holdout).replication_epochs.empty


def test_replication_section_renders_the_article_and_ours():
    runs = [tutorial_run(0, 0.01), tutorial_run(1, -0.004), tutorial_run(2, 0.003)]
    agg = aggregate(runs)
    assert "Replication of the Keras tutorial" in leaderboard_markdown(agg, generated="now")
    text = runs_markdown(agg, generated="now")
    section = text.split("## Replication of the Keras tutorial")[1].split("\n## ")[0]
    first = next(line for line in section.splitlines() if line.startswith("| 1 "))
    ours = np.mean([ARTICLE_VAL_ACCURACY[0] + s for s in (0.01, -0.004, 0.003)])
    assert f"| {ARTICLE_VAL_ACCURACY[0]:.4f} " in first and f"{ours:.4f} [" in first
    assert "+0.0030" in first
    digit = next(line for line in section.splitlines() if line.startswith("| 0 "))
    assert f"| {ARTICLE_CONFUSION_DIAGONAL[0]} " in digit
    assert text.index("## Replication") < text.index("## How these numbers are made")
    # every epoch +0.003 on average, inside an interval of +-0.018: above at 9 of 9 epochs
    flat = " ".join(section.split())
    expected = format_p_value(scipy_stats.binomtest(9, 9, 0.5).pvalue)
    assert f"Ours runs higher at 9 of 9 epochs (sign test p {expected})" in flat
    assert "inside our interval at every epoch" in flat and first.split("|")[-2].strip() == "yes"
    # three seeds 0.014 apart cannot show the article's run equivalent within 0.1 points
    assert "Final epoch (9): the article's run against ours as one more seed would be: " in flat
    assert "**undecided**" in flat


def test_sign_test_and_reproduction_against_scipy():
    test = sign_test(np.array([0.1, 0.2, -0.1, 0.0, 0.3, np.nan]))
    assert (test.above, test.below, test.ties) == (3, 1, 1)
    assert test.p_value == pytest.approx(scipy_stats.binomtest(3, 4, 0.5).pvalue)
    values = np.array([0.9912, 0.9913, 0.9915, 0.9913])
    low, high = scipy_stats.t.interval(0.95, 3, loc=values.mean(), scale=scipy_stats.sem(values))
    result = reproduction_test(values.mean(), low, high, 4, 0.9913)
    one_run = values.std(ddof=1) * np.sqrt(1 + 1 / 4)
    t = (values.mean() - 0.9913 - 0.001) / one_run
    assert result.p_equivalent == pytest.approx(scipy_stats.t.cdf(t, 3))
    assert result.words == "equivalent"


def test_published_results_beside_ours():
    labels = np.arange(1000) % 10
    wrong = np.arange(1000) % 50 == 0  # 2% error
    reference = {
        "source": "paper",
        "test_error_pct": 2.5,
        "conditions": "same",
        "dataset": "digits",
    }
    runs = [
        make_record(
            "lenet",
            0,
            labels,
            np.where(wrong, (labels + 1) % 10, labels),
            model_info={"reference": reference, "deterministic": True},
        )
    ]
    agg = aggregate(runs)
    row = agg.published.iloc[0]
    answers = (~wrong).astype(float)
    low, high = scipy_stats.ttest_1samp(answers, 0).confidence_interval(0.95)
    text = leaderboard_markdown(agg, generated="now")
    line = next(x for x in text.splitlines() if x.startswith("| digits (8x8) | lenet"))
    assert "| 2.50 " in line and "| 2.00 [" in line
    details = runs_markdown(agg, generated="now")
    line = next(x for x in details.splitlines() if x.startswith("| digits (8x8) | lenet"))
    assert "| 2.50 " in line and "| paper " in line and "| same " in line
    assert row["our_error"] == pytest.approx(2.0)
    assert (row["low"], row["high"]) == pytest.approx((100 * (1 - high), 100 * (1 - low)))
    assert row["inside"] == (100 * (1 - high) <= 2.5 <= 100 * (1 - low))


def test_robustness_summary_uses_the_robustness_arithmetic():
    labels = np.arange(500) % 10
    # per seed: fog, rotate, blur. good's lowest single value is blur on two seeds of three,
    # but fog has the lowest mean; base's error barely rises on blur (1 point)
    accuracy = {
        "base": [(0.60, 0.80, 0.94), (0.59, 0.79, 0.94), (0.61, 0.81, 0.94)],
        "good": [(0.70, 0.90, 0.85), (0.74, 0.89, 0.72), (0.74, 0.91, 0.73)],
    }
    names = ("fog", "rotate", "blur")
    records = []
    for model, clean in (("base", 0.95), ("good", 0.98)):
        for seed, values in enumerate(accuracy[model]):
            wrong = np.arange(500) < int(round((1 - clean) * 500))
            corruptions = {n: {"accuracy": a, "n": 500} for n, a in zip(names, values, strict=True)}
            records.append(
                make_record(
                    model,
                    seed,
                    labels,
                    np.where(wrong, (labels + 1) % 10, labels),
                    robustness={"corruptions": corruptions, "subset": None, "seconds": 1.0},
                )
            )
    agg = aggregate(records, robustness_baseline="base")
    good = agg.robustness.set_index("model").loc["good"]
    base_errors = {n: 1 - np.mean([v[i] for v in accuracy["base"]]) for i, n in enumerate(names)}
    relative = [
        relative_mce({"fog": 1 - v[0], "rotate": 1 - v[1]}, 0.02, base_errors, 0.05)[1]
        for v in accuracy["good"]
    ]
    plain = [
        relative_corruption_error({n: 1 - a for n, a in zip(names, v, strict=True)}, base_errors)[1]
        for v in accuracy["good"]
    ]
    assert good["baseline"] == "base" and good["relative_left_out"] == "blur"
    assert good["relative_mce"] == pytest.approx(np.mean(relative))
    assert good["mce"] == pytest.approx(np.mean(plain))
    assert good["mean_corrupted"] == pytest.approx(np.mean(accuracy["good"]))
    fog = [v[0] for v in accuracy["good"]]
    assert good["worst_corruption"] == "fog" and good["worst"] == pytest.approx(np.mean(fog))
    assert good["worst_hw"] == pytest.approx(scipy_stats.t.ppf(0.975, 2) * scipy_stats.sem(fog))
    grid = agg.corruptions.set_index(["model", "corruption"])
    assert grid.loc[("good", "clean"), "accuracy"] == pytest.approx(0.98)
    text = runs_markdown(agg, generated="now")  # robustness details live in RUNS.md
    assert "| fog (" in text and "blur" in text.split("### Robustness")[1]


def test_verdicts_name_best_fastest_and_best_calibrated(records, agg):
    verdict = agg.verdicts.set_index("dataset").loc["digits"]
    order = agg.order["digits"]
    assert verdict["best"] == order[0] and verdict["runner_up"] == order[1]
    test = agg.pairwise.iloc[0]
    assert (
        verdict["lead"] == pytest.approx(test["diff"])
        and verdict["lead_verdict"] == test["verdict"]
    )
    ece = {m: np.mean([r.metrics["ece"] for r in records if r.model == m]) for m in order}
    assert verdict["best_calibrated"] == min(ece, key=ece.get)


def test_one_model_on_several_backends_is_compared_with_tensorflow():
    """Accuracy differences come from the two-level bootstrap of the same runs that the
    pairwise tests use; speed ratios are ratios of the medians over seeds."""
    rng = np.random.default_rng(7)
    labels = np.arange(2000) % 10
    records = []
    for backend, error, speed in (
        ("tensorflow", 0.05, 100.0),
        ("jax", 0.05, 50.0),
        ("torch", 0.3, 400.0),
    ):
        for seed in range(3):
            predictions = np.where(rng.random(2000) < error, (labels + 1) % 10, labels)
            timings = speed_timings(10.0, speed + seed, 300.0)
            timings["latency"]["median_ms"] = 1000.0 / speed
            records.append(
                make_record("m", seed, labels, predictions, timings=timings, backend=backend)
            )
    records.append(make_record("other", 0, labels, labels))
    agg = aggregate(records)
    frame = agg.backends.set_index("backend")
    assert list(agg.backends["model"].unique()) == ["m"], "a model on one backend has no rows"
    assert frame.index.tolist() == ["tensorflow", "jax", "torch"]
    assert frame.at["tensorflow", "reference"] and frame.at["jax", "version"] == "jax 9.9"
    assert frame.at["jax", "train_ratio"] == pytest.approx(51.0 / 101.0)
    assert frame.at["torch", "latency_ratio"] == pytest.approx(10.0 / 2.5)
    pair = compare_models(records, "m@torch", "m", "digits", False)
    assert frame.at["torch", "diff"] == pytest.approx(100 * pair.difference.estimate)
    assert frame.at["torch", "diff_high"] < -20 and frame.at["torch", "agreement"] == "different"
    # 3 seeds x 2,000 images at 95%: far too few to show agreement within 0.1 points
    assert frame.at["jax", "agreement"] == "undecided"
    assert frame.at["jax", "diff_low"] < 0 < frame.at["jax", "diff_high"]
    lines = "\n".join(backend_lines(agg, "digits"))
    assert "### Across Keras backends" in lines and "(undecided)" in lines
    assert "(different)" in lines
    assert "jax 9.9" in lines and "0.50x" in lines and "4.00x" in lines
    assert backend_lines(aggregate(records[:3]), "digits") == []


def test_runs_page_shows_each_runs_peak_memory_and_phases():
    labels = np.arange(200) % 10
    records = []
    for seed, robustness in ((0, None), (1, 2.5)):
        timings = speed_timings(4.0, 100.0, 300.0)
        timings["memory"] = {"peak_rss_mb": 1234.4 + seed}
        timings["phases"] = {"data": 0.1, "build": 0.04, "train": 4.56, "evaluate": 0.3}
        if robustness:
            timings["phases"]["robustness"] = robustness
        timings["phases"]["measure"] = 1.4
        records.append(make_record("m", seed, labels, labels, timings=timings))
    text = runs_markdown(aggregate(records), generated="now")
    every_run = text.split("### Every run")[1]
    header = next(line for line in every_run.splitlines() if line.startswith("| Model"))
    assert "Peak RSS MiB" in header
    assert "Phases s (data / build / train / evaluate / measure / robustness)" not in header
    assert "Phases s (data / build / train / evaluate / robustness / measure)" in header
    rows = [line for line in every_run.splitlines() if line.startswith("| m ")]
    cells = [[c.strip() for c in row.split("|")[1:-1]] for row in rows]
    assert [c[-3] for c in cells] == ["1,234", "1,235"]
    assert [c[-2] for c in cells] == [
        "0.1 / 0.0 / 4.6 / 0.3 / - / 1.4",
        "0.1 / 0.0 / 4.6 / 0.3 / 2.5 / 1.4",
    ]


def test_time_to_accuracy_median_counts_seeds_that_never_arrived():
    labels = np.arange(200) % 10
    arrivals = {0: 3.0, 1: 5.0, 2: None, 3: 4.0, 4: None}  # 3 of 5 seeds reach 99%
    records = []
    for seed, seconds in arrivals.items():
        timings = speed_timings(6.0, 100.0, 300.0)
        timings["time_to_accuracy"] = {"0.97": 1.0 + seed}
        if seconds is not None:
            timings["time_to_accuracy"]["0.99"] = seconds
        records.append(make_record("m", seed, labels, labels, dataset="mnist", timings=timings))
    for seed in range(4):  # two of four: no median
        timings = speed_timings(6.0, 100.0, 300.0)
        timings["time_to_accuracy"] = {"0.99": 2.0} if seed < 2 else {}
        records.append(make_record("n", seed, labels, labels, dataset="mnist", timings=timings))
    agg = aggregate(records)
    frame = agg.time_to_accuracy.set_index(["model", "target"])
    assert frame.at[("m", 0.99), "median_all_s"] == 5.0, "sorted: 3, 4, 5, never, never"
    assert frame.at[("m", 0.99), "median_s"] == 4.0, "over the seeds that arrived"
    assert frame.at[("m", 0.97), "median_all_s"] == 3.0
    assert np.isnan(frame.at[("n", 0.99), "median_all_s"])
    table = time_to_accuracy_table(agg, "mnist")
    m_row = next(line for line in table.splitlines() if line.startswith("| m "))
    n_row = next(line for line in table.splitlines() if line.startswith("| n "))
    assert "5.0 (3/5 seeds)" in m_row and "3.0 [1.0–5.0]" in m_row
    assert "2/4 seeds" in n_row and "(2/4 seeds)" not in n_row
