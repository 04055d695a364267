"""The regression gate: ``bench diff A B --fail-if ...`` and ``bench benchmarks --compare``."""

from __future__ import annotations

import json
import statistics

import pytest

from bench.cli import main
from bench.core.errors import BenchError
from bench.results.export import gate
from bench.results.stats.intervals import welch_difference

RULES = "accuracy<-0.2,train_speed<0.9x,latency_p50>1.1x"


@pytest.fixture(scope="module")
def lr_folders(tmp_path_factory):
    """A: mlp:quick on digits, two seeds. B: the same with its learning rate cut tenfold."""
    a, b = tmp_path_factory.mktemp("lr-base"), tmp_path_factory.mktemp("lr-cut")
    sweep = ["run", "--model", "mlp:quick", "--dataset", "digits", "--repeats", "2", "--no-report"]
    assert main([*sweep, "--results-dir", str(a)]) == 0
    assert main([*sweep, "--set", "learning_rate=0.0001", "--results-dir", str(b)]) == 0
    return a, b


@pytest.mark.slow
def test_a_learning_rate_cut_tenfold_fails_the_gate(lr_folders, capsys):
    a, b = lr_folders
    capsys.readouterr()
    assert main(["diff", str(a), str(b), "--fail-if", RULES]) == 1
    out = capsys.readouterr().out
    gate_text = out[out.index("## Gate: FAILED") :]
    failed = gate_text[gate_text.index("### Failed") :].split("###")[1]
    rows = [line for line in failed.splitlines() if line.startswith("| mlp:quick on digits")]
    assert any("accuracy<-0.2" in row for row in rows), gate_text

    capsys.readouterr()
    assert main(["diff", str(a), str(b), "--json", "--fail-if", RULES]) == 1
    data = json.loads(capsys.readouterr().out)
    (accuracy_check,) = [c for c in data["gate"]["checks"] if c["rule"] == "accuracy<-0.2"]
    pair = data["pairs"][0]
    # The gate's interval is the diff's own Welch interval, in percentage points.
    assert accuracy_check["estimate"] == pytest.approx(100 * pair["accuracy"]["estimate"])
    assert accuracy_check["high"] == pytest.approx(100 * pair["accuracy"]["high"])
    assert accuracy_check["high"] < -0.2 and accuracy_check["verdict"] == "failed"


@pytest.mark.slow
def test_a_run_against_itself_or_an_improvement_passes(lr_folders, capsys):
    a, b = lr_folders
    assert main(["diff", str(a), str(a), "--fail-if", RULES]) == 0
    assert "## Gate: passed" in capsys.readouterr().out
    # The other way round B -> A is a gain in accuracy: no accuracy rule can fail on it.
    assert main(["diff", str(b), str(a), "--fail-if", "accuracy<-0.2"]) == 0


@pytest.mark.slow
def test_a_gate_with_nothing_to_compare_is_an_error(lr_folders, tmp_path, capsys):
    a, _ = lr_folders
    other = tmp_path / "other"
    assert (
        main(
            [
                "run",
                "--model",
                "logreg:quick",
                "--dataset",
                "digits",
                "--no-report",
                "--results-dir",
                str(other),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["diff", str(a), str(other), "--fail-if", "accuracy<-0.2"]) == 2
    assert "nothing to gate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("accuracy<<0.2", "cannot read 'accuracy<<0.2'"),
        ("accuracy=0.2", "cannot read 'accuracy=0.2'"),
        ("speed<0.9x", "unknown metric 'speed' in 'speed<0.9x'; known here: accuracy, "),
        ("train_speed<0x", "a ratio threshold must be a positive number"),
        ("accuracy<-0.2,", "cannot read ''"),
        ("accuracy<1.2.3", "'1.2.3' in 'accuracy<1.2.3' is not a number"),
        ("", "--fail-if is empty"),
    ],
)
def test_bad_grammar_is_exit_2_with_the_clause_named(rules, message, tmp_path, capsys):
    # The folders do not exist: the rules are checked before anything is read.
    code = main(["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-if", rules])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_parse_rules_reads_differences_and_ratios():
    rules = gate.parse_rules(" accuracy < -0.2 , latency_p50>1.1x,train_speed<9e-1x")
    assert [(r.metric, r.op, r.threshold, r.ratio) for r in rules] == [
        ("accuracy", "<", -0.2, False),
        ("latency_p50", ">", 1.1, True),
        ("train_speed", "<", 0.9, True),
    ]
    with pytest.raises(BenchError, match="known here: a, b"):
        gate.parse_rules("c<1", ["b", "a"])


def test_a_drop_counts_only_when_its_interval_excludes_the_threshold():
    rule = gate.parse_rules("accuracy<-0.2")[0]
    base = [97.0, 97.4, 96.8]
    clear = gate.judge("m", rule, base, [95.1, 95.5, 95.0])
    noisy = gate.judge("m", rule, base, [96.1, 97.9, 95.9])
    expected = welch_difference(base, [95.1, 95.5, 95.0])
    assert (clear.low, clear.high) == pytest.approx((expected.low, expected.high))
    assert clear.verdict == "failed" and clear.high < -0.2
    assert noisy.estimate < -0.2 < noisy.high and noisy.verdict == "within noise"
    assert gate.judge("m", rule, base, base).verdict == "passed"
    single = gate.judge("m", rule, [97.0], [96.5])
    assert single.verdict == "failed" and single.low is None and "point estimate" in single.note
    assert gate.judge("m", rule, [97.0], []).verdict == "not measured"


def test_a_ratio_is_judged_on_logarithms_and_reported_as_a_ratio():
    rule = gate.parse_rules("latency_p50>1.1x")[0]
    a, b = [1.00, 1.02, 0.98, 1.01], [1.30, 1.33, 1.28, 1.31]
    check = gate.judge("m", rule, a, b)
    ratio = statistics.geometric_mean(b) / statistics.geometric_mean(a)
    assert check.estimate == pytest.approx(ratio)
    assert check.low > 1.1 and check.low < ratio < check.high
    assert check.verdict == "failed"
    assert gate.judge("m", rule, a, a).verdict == "passed"


def benchmark_file(path, name, rounds, images_per_s, save_data=True):
    """A pytest-benchmark JSON document with one benchmark."""
    stats = {"median": statistics.median(rounds), "rounds": len(rounds)}
    if save_data:
        stats["data"] = rounds
    bench = {
        "name": name,
        "fullname": f"tests/benchmarks/test_x.py::{name}",
        "stats": stats,
        "extra_info": {"images_per_s": images_per_s, "target": "text is not a metric"},
    }
    path.write_text(json.dumps({"benchmarks": [bench], "machine_info": {}}))
    return path


def test_benchmark_files_gate_on_rounds_and_extra_info(tmp_path, capsys):
    old = benchmark_file(tmp_path / "old.json", "test_step", [0.10, 0.101, 0.099, 0.1], 5000.0)
    slow = benchmark_file(tmp_path / "new.json", "test_step", [0.13, 0.131, 0.129, 0.13], 3800.0)
    argv = ["benchmarks", "--json", str(slow), "--compare", str(old)]
    assert main([*argv, "--fail-if", "time>1.1x"]) == 1
    out = capsys.readouterr().out
    assert "## Gate: FAILED" in out and "test_step | time>1.1x | 1.300x" in out
    assert "Welch t-interval over rounds" in out
    assert main([*argv, "--fail-if", "images_per_s<0.7x"]) == 0
    assert main([*argv, "--fail-if", "images_per_s<0.8x"]) == 1
    assert "point estimate" in capsys.readouterr().out
    same = ["benchmarks", "--json", str(old), "--compare", str(old), "--fail-if", "time>1.1x"]
    assert main(same) == 0
    assert not (tmp_path / "results").exists(), "a comparison writes no markdown"


def test_benchmark_gate_errors_are_exit_2(tmp_path, capsys):
    old = benchmark_file(tmp_path / "old.json", "test_a", [0.1, 0.1], 1.0)
    other = benchmark_file(tmp_path / "other.json", "test_b", [0.1, 0.1], 1.0)
    base = ["benchmarks", "--json", str(other)]
    assert main([*base, "--compare", str(old)]) == 2
    assert "--compare OLD.json and --fail-if RULES go together" in capsys.readouterr().err
    assert main([*base, "--compare", str(old), "--fail-if", "target<1"]) == 2
    assert "unknown metric 'target'" in capsys.readouterr().err
    assert main([*base, "--compare", str(old), "--fail-if", "time>1.1x"]) == 2
    assert "no benchmark is in both" in capsys.readouterr().err
