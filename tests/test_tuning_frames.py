"""The tuned race's data for the report, from real studies on digits: best-so-far validation
accuracy against trials and cumulative training seconds, trial counts, race labels, the figure."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("optuna", reason="pip install 'mnist-bench[tune]'")

from bench.cli import main  # noqa: E402
from bench.results.report.figure_style import png_bytes  # noqa: E402
from bench.results.report.frames_tuning import (  # noqa: E402
    load_trial_records,
    race_label,
    trial_counts,
    trial_frame,
    tuned_note,
)
from bench.results.report.tuning_figures import best_so_far_figure  # noqa: E402
from bench.results.store.files import load_records  # noqa: E402


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    results = tmp_path_factory.mktemp("tuning") / "results"
    common = ["--dataset", "digits", "--trial-budget", "5", "--results-dir", str(results)]
    assert main(["tune", "--model", "logreg", "--trials", "4", "--sampler", "random", *common]) == 0
    assert main(["tune", "--model", "knn", "--trials", "2", "--search-seed", "0,1", *common]) == 0
    models = "knn,knn:tuned,knn:tuned-s1,logreg,logreg:tuned"
    run = ["run", "--model", models, "--dataset", "digits", "--no-report"]
    assert main([*run, "--results-dir", str(results)]) == 0
    return results


def test_best_so_far_is_the_running_maximum_of_complete_trials(results):
    records = load_trial_records(results, "digits")
    frame = trial_frame(records)
    assert sorted(frame["study"].unique()) == [
        "digits--knn--search0",
        "digits--knn--search1",
        "digits--logreg--search0",
    ]
    for _, rows in frame.groupby("study"):
        values = rows["val_accuracy"].to_numpy(dtype=float)
        assert np.allclose(rows["best_so_far"], np.maximum.accumulate(values))
        assert np.allclose(rows["cumulative_seconds"], np.cumsum(rows["train_seconds"]))
        assert list(rows["trial"]) == list(range(len(rows)))
    by_id = {r.run.tuning["study"] + str(r.run.tuning["number"]): r for r in records}
    for row in frame.itertuples():
        assert row.val_accuracy == by_id[row.study + str(row.trial)].metrics["val_accuracy"]
    counts = trial_counts(frame).set_index("study")
    assert counts.loc["digits--logreg--search0", "trials"] == 4
    assert counts.loc["digits--knn--search1", "complete"] == 2
    assert (counts["budget_seconds"] == 5.0).all()


def test_race_labels_tell_defaults_from_tuned(results):
    records = load_records(results)
    labels = {record.label: race_label(record) for record in records}
    assert labels == {
        "knn": "defaults",
        "logreg": "defaults",
        "knn:tuned": "tuned",
        "logreg:tuned": "tuned",
        "knn:tuned-s1": "tuned-s1",  # the search's variance: in neither race
    }
    notes = {record.label: tuned_note(results, record) for record in records}
    assert notes["knn"] is None
    assert notes["knn:tuned"] == (
        "bench tune, 2 trials of 5 s each (tpe, median pruning, search seed 0: 0 pruned, 0 failed)"
    )


def test_each_race_gets_its_own_verdict_and_no_test_crosses_races(results):
    from bench.results.report.aggregate import aggregate
    from bench.results.report.markdown import verdict_lines

    agg = aggregate(load_records(results))
    assert set(agg.races) == {("digits", "defaults"), ("digits", "tuned")}
    assert sorted(agg.races[("digits", "tuned")]) == ["knn:tuned", "logreg:tuned"]
    assert "knn:tuned-s1" in agg.order["digits"]
    race_of = {m: race for (_, race), labels in agg.races.items() for m in labels}
    assert len(agg.pairwise) == 2, "one test per race of two models"
    for test in agg.pairwise.itertuples():
        assert race_of[test.model_a] == race_of[test.model_b] == test.race
    for frame in (agg.verdicts, agg.recommendations):
        assert list(frame["race"]) == ["defaults", "tuned"]
        for row in frame.itertuples():
            assert row.best == agg.races[("digits", row.race)][0]
    verdicts = " ".join(" ".join(verdict_lines(agg, "digits")).split())
    defaults, tuned = verdicts.index("**At defaults**"), verdicts.index("**Tuned at one equal")
    assert defaults < verdicts.index(agg.races[("digits", "defaults")][0]) < tuned
    assert verdicts.index(agg.races[("digits", "tuned")][0], tuned) > tuned
    assert "knn:tuned-s1" not in verdicts


def test_what_tuning_bought_pairs_each_tuned_preset_with_its_own_defaults(results):
    from bench.results.report.aggregate import aggregate
    from bench.results.report.tuning_gain import tuning_gain_frame, tuning_gain_markdown

    records = load_records(results)
    agg = aggregate(records)
    gain = tuning_gain_frame(records, agg).set_index("tuned")
    assert sorted(gain.index) == ["knn:tuned", "logreg:tuned"]  # not knn:tuned-s1
    for tuned, row in gain.iterrows():
        assert row["defaults"] == tuned.removesuffix(":tuned")
        assert row["diff"] == pytest.approx(100 * (row["acc_tuned"] - row["acc_defaults"]))
        assert row["low"] <= row["diff"] <= row["high"]
        assert row["p"] <= row["p_holm"] <= 1.0
        ranked = agg.races[("digits", "tuned")]
        assert row["rank_tuned"] == ranked.index(tuned) + 1
    text = " ".join(tuning_gain_markdown(gain.reset_index(), "digits"))
    assert "### What tuning bought (test set)" in text
    assert f"{100 * gain.loc['knn:tuned', 'acc_tuned']:.2f}" in text
    assert tuning_gain_markdown(gain.reset_index(), "mnist") == []


def test_the_figure_draws_one_line_per_study_in_both_panels(results):
    figure = best_so_far_figure(trial_frame(load_trial_records(results)), "digits")
    by_trial, by_seconds = figure.axes
    assert len(by_trial.lines) == len(by_seconds.lines) == 3
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_counts_carry_each_studys_best_validation_accuracy(results):
    frame = trial_frame(load_trial_records(results, "digits"))
    counts = trial_counts(frame).set_index("study")
    for study, rows in frame.groupby("study"):
        complete = rows.loc[rows["state"] == "COMPLETE", "val_accuracy"]
        assert counts.loc[study, "best_val_accuracy"] == complete.max()
        assert counts.loc[study, "train_seconds"] == pytest.approx(rows["train_seconds"].sum())


def test_the_leaderboard_says_whether_the_tuned_race_has_run(results, tmp_path):
    import shutil

    assert main(["report", "--results-dir", str(results)]) == 0
    board = (results / "LEADERBOARD.md").read_text()
    assert "Best val %" in board and "Training s spent" in board
    assert "race in the rows labelled 'tuned'" in board
    untuned = tmp_path / "results"
    shutil.copytree(results, untuned)
    for record in load_records(untuned):
        if race_label(record) == "tuned":
            shutil.rmtree(untuned / "runs" / record.run_id)
    assert main(["report", "--results-dir", str(untuned)]) == 0
    board = " ".join((untuned / "LEADERBOARD.md").read_text().split())
    assert "The tuned race has not run on this dataset yet" in board
    assert "--preset tuned --dataset digits" in board
    half = tmp_path / "half"
    shutil.copytree(results, half)
    for record in load_records(half):
        if record.label == "logreg:tuned":
            shutil.rmtree(half / "runs" / record.run_id)
    assert main(["report", "--results-dir", str(half)]) == 0
    board = " ".join((half / "LEADERBOARD.md").read_text().split())
    assert "Tuned but not raced yet: logreg (`python -m bench run --model logreg:tuned" in board


def test_the_figure_zooms_on_the_searches_bests_not_a_diverged_first_trial():
    import pandas as pd

    from bench.results.report.tuning_figures import accuracy_window

    rows = pd.DataFrame(
        {
            "study": ["a", "a", "a", "b", "b"],
            "best_so_far": [0.11, 0.95, 0.989, 0.92, 0.9246],
        }
    )
    low, high = accuracy_window(rows)
    assert low == pytest.approx(92.46 - 1.0)  # the weakest best, less the 1-point margin
    assert high == pytest.approx(99.4)
    by_trial = best_so_far_figure(
        pd.DataFrame(
            {
                "dataset": "d",
                "model": ["m", "m"],
                "study": "s",
                "search_seed": 0,
                "trial": [0, 1],
                "cumulative_seconds": [1.0, 2.0],
                "best_so_far": [0.5, 0.9],
            }
        ),
        "d",
    ).axes[0]
    assert by_trial.get_ylim() == pytest.approx((89.0, 90.5))


def test_order_changes_names_the_pairs_that_swapped_places():
    import pandas as pd

    from bench.results.report.tuning_gain import order_changes

    part = pd.DataFrame(
        {"defaults": ["a", "b", "c"], "rank_defaults": [1, 2, 3], "rank_tuned": [2, 1, 3]}
    )
    assert order_changes(part) == [("a", "b")]
    assert order_changes(part.assign(rank_tuned=[1, 2, 3])) == []


def test_the_order_changes_are_told_once_per_model_that_moved_up():
    from bench.results.report.tuning_gain import order_change_sentence

    sentence = order_change_sentence([("lenet5", "cnn_fast"), ("mlp", "cnn_fast"), ("knn", "svm")])
    assert sentence.startswith("Tuned, cnn_fast passed lenet5 and mlp; svm passed knn.")
    assert order_change_sentence([]) == "Tuning changed no model's place relative to another's."


def test_the_search_spread_gives_each_searchs_best_and_its_presets_test_accuracy(results):
    from bench.results.report.aggregate import aggregate
    from bench.results.report.frames_tuning import search_spread_frame

    agg = aggregate(load_records(results))
    trials = trial_frame(load_trial_records(results, "digits"))
    spread = search_spread_frame(trials, agg.summary).set_index("model")
    assert list(spread.index) == ["knn"], "logreg has one search seed: no spread"
    row = spread.loc["knn"]
    assert row["search_seeds"] == [0, 1]
    knn = trials[trials["model"] == "knn"]
    bests = [knn.loc[knn["search_seed"] == seed, "best_so_far"].max() for seed in (0, 1)]
    assert row["best_val"] == bests
    tests = [
        agg.summary.at[("digits", label), "accuracy"] for label in ("knn:tuned", "knn:tuned-s1")
    ]
    assert row["test"] == tests
    assert row["val_spread"] == pytest.approx(100 * (max(bests) - min(bests)))
    assert row["test_spread"] == pytest.approx(100 * (max(tests) - min(tests)))
    assert main(["report", "--results-dir", str(results)]) == 0
    board = " ".join((results / "LEADERBOARD.md").read_text().split())
    assert "The search's own variance" in board
