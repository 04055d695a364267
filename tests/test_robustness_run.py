"""``bench run --robustness``: each run is scored on corrupted copies of the test set."""

from __future__ import annotations

from bench.cli import main
from bench.data.corruptions import corruptions_for
from bench.results.store.files import load_records


def test_a_run_with_robustness_records_every_corruption(tmp_path, bench_home, capsys):
    argv = ["run", "--model", "logreg:quick", "--dataset", "digits", "--robustness"]
    assert main([*argv, "--no-report", "--results-dir", str(tmp_path)]) == 0
    (record,) = load_records(tmp_path)
    robustness = record.robustness
    assert list(robustness["corruptions"]) == corruptions_for("digits")
    for scores in robustness["corruptions"].values():
        assert 0.0 <= scores["accuracy"] <= 1.0
        assert scores["log_loss"] > 0 and 0.0 <= scores["ece"] <= 1.0
        assert scores["n"] == record.n_test
    mean = sum(s["accuracy"] for s in robustness["corruptions"].values()) / len(
        robustness["corruptions"]
    )
    assert mean < record.accuracy, "corruptions cost accuracy on average"
    assert robustness["corruptions"]["shot_noise"]["accuracy"] > 0.5
    assert "robustness" in record.timings["phases"]
    assert record.run.robustness == "ours"


def test_robustness_is_part_of_the_run_definition(tmp_path, bench_home):
    from bench.run.selection import build_runs

    plain, scored = (
        build_runs(["logreg:quick"], ["digits"], [0], robustness=value)[0]
        for value in (None, "ours")
    )
    assert plain.run_id != scored.run_id, "a run with robustness is not done by one without"


def test_a_missing_mnist_c_folder_is_refused_before_training(tmp_path, capsys):
    argv = ["run", "--model", "logreg:quick", "--dataset", "digits", "--no-report"]
    missing = tmp_path / "nope"
    code = main([*argv, "--robustness-from", str(missing), "--results-dir", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--robustness-from {missing}" in err
    assert "corrupts MNIST only, not digits" in err
    assert load_records(tmp_path / "r") == []
