"""bench diff: two real results folders (seeded SGD on digits) compared model by model."""

from __future__ import annotations

import json
import math
import statistics

import pytest
from scipy import stats

from bench.cli import main
from bench.results.export.diff import diff_records, to_markdown
from bench.results.stats.intervals import NO_SPREAD, welch_difference
from bench.results.store.files import load_records, record_path
from bench.results.store.stale import current_records


def welch_by_hand(a, b, confidence=0.95):
    """Welch's interval for mean(b) - mean(a), from the textbook formula."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf((1 + confidence) / 2, df) * math.sqrt(va + vb)
    difference = statistics.fmean(b) - statistics.fmean(a)
    return difference - half, difference + half


@pytest.fixture
def folders(tmp_path, sgd_model, capsys):
    """A: sgd_probe seeds 0-2. B: sgd_probe seeds 0-2 with alpha 0.01, and knn (one run)."""
    a, b = tmp_path / "a", tmp_path / "b"
    sweep = ["run", "--dataset", "digits", "--repeats", "3", "--no-report"]
    assert main([*sweep, "--model", "sgd_probe", "--results-dir", str(a)]) == 0
    assert (
        main([*sweep, "--model", "sgd_probe", "--set", "alpha=0.01", "--results-dir", str(b)]) == 0
    )
    assert main([*sweep, "--model", "knn", "--results-dir", str(b)]) == 0
    capsys.readouterr()
    return a, b


def test_accuracy_difference_interval_and_speed_ratios(folders):
    a, b = folders
    records_a, records_b = load_records(a), load_records(b)
    diff = diff_records(current_records(a).current, current_records(b).current)
    (pair,) = diff.pairs
    assert (pair.label, pair.dataset, pair.seeds_a, pair.seeds_b) == (
        "sgd_probe",
        "digits",
        [0, 1, 2],
        [0, 1, 2],
    )
    acc_a = [r.accuracy for r in sorted(records_a, key=lambda r: r.seed)]
    acc_b = [r.accuracy for r in records_b if r.label == "sgd_probe"]
    assert pair.accuracy.estimate == pytest.approx(
        statistics.fmean(acc_b) - statistics.fmean(acc_a)
    )
    assert (pair.accuracy.low, pair.accuracy.high) == pytest.approx(welch_by_hand(acc_a, acc_b))
    assert pair.accuracy.low < pair.accuracy.estimate < pair.accuracy.high
    assert not pair.same_config, "alpha differs between the folders"

    train_a = statistics.median(r.train_samples_per_s for r in records_a)
    train_b = statistics.median(r.train_samples_per_s for r in records_b if r.label == "sgd_probe")
    assert pair.train_speedup == pytest.approx(train_b / train_a)
    lat_a = statistics.median(r.latency_p50_ms for r in records_a)
    lat_b = statistics.median(r.latency_p50_ms for r in records_b if r.label == "sgd_probe")
    assert pair.latency_speedup == pytest.approx(lat_a / lat_b)
    assert diff.only_b == ["knn on digits"] and diff.only_a == []
    assert diff.runs_a == 3 and diff.runs_b == 4, "knn is deterministic: one seed"


def test_markdown_and_json_from_the_command(folders, capsys):
    a, b = folders
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "Welch t-interval over seeds" in out
    rows = [line for line in out.splitlines() if line.startswith("| sgd_probe ")]
    accuracy_row = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert accuracy_row[:4] == ["sgd_probe", "digits", "3", "3"]
    assert accuracy_row[-1] == "no", "same config: no (alpha differs)"
    speed_row = [cell.strip() for cell in rows[1].strip("|").split("|")]
    assert len(speed_row) == 11 and speed_row[4].endswith("x")
    assert "Only in B" in out and "knn on digits" in out
    assert "## Machines" in out and "## Libraries" in out

    assert main(["diff", str(a), str(b), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (pair,) = data["pairs"]
    assert pair["accuracy"]["low"] < pair["accuracy"]["high"]
    assert data["method"] == "Welch t-interval over seeds"
    cpu = next(row for row in data["machines"] if row["field"] == "CPU model")
    assert cpu["a"] == cpu["b"] == load_records(a)[0].environment["cpu_model"]


def test_machines_and_libraries_that_differ_are_shown_side_by_side(folders, capsys):
    a, b = folders
    for record in load_records(b):  # as if folder B came from another machine
        path = record_path(b, record.run_id)
        data = json.loads(path.read_text())
        data["environment"]["cpu_model"] = "Intel Xeon Platinum"
        data["environment"]["libraries"]["scikit-learn"] = "9.9.9"
        path.write_text(json.dumps(data))
    diff = diff_records(load_records(a), load_records(b))
    machines = {title: (x, y) for title, x, y in diff.machines}
    assert machines["CPU model"] == (
        load_records(a)[0].environment["cpu_model"],
        "Intel Xeon Platinum",
    )
    libraries = {name: (x, y) for name, x, y in diff.libraries}
    assert libraries["scikit-learn"][1] == "9.9.9" != libraries["scikit-learn"][0]
    assert "| scikit-learn | " in to_markdown(diff) and "differs" in to_markdown(diff)


def test_one_seed_gives_no_interval_and_equal_seeds_no_spread():
    assert welch_difference([0.9], [0.91, 0.92]) is None
    flat = welch_difference([0.9, 0.9], [0.95, 0.95])
    assert (flat.low, flat.high) == pytest.approx((0.05, 0.05)) and flat.method == NO_SPREAD


def test_folders_without_records_are_clear_errors(tmp_path, folders, capsys):
    a, _ = folders
    assert main(["diff", str(a), str(tmp_path / "nowhere")]) == 2
    assert "no results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["diff", str(tmp_path / "empty"), str(a)]) == 2
    assert "no ok run records" in capsys.readouterr().err
