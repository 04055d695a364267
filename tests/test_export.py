"""bench export and the public API (bench.load_results, bench.load_records): tables built from
real (scikit-learn, sub-second) runs on digits, written in each format and read back."""

from __future__ import annotations

import dataclasses
import doctest
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_recall_fscore_support

import bench
from bench.cli import main
from bench.results.export.table import read_table, records_table, write_table
from bench.results.store.files import write_record
from bench.results.store.record import RunError, RunRecord
from bench.run.selection import build_runs

SWEEP = ["run", "--model", "sgd_probe:quick,sgd_probe", "--dataset", "digits", "--repeats", "2"]


@pytest.fixture
def results(tmp_path, sgd_model, capsys) -> Path:
    """Four real runs: sgd_probe (default and quick presets) with seeds 0 and 1."""
    folder = tmp_path / "results"
    assert main([*SWEEP, "--results-dir", str(folder), "--no-report"]) == 0
    capsys.readouterr()
    return folder


def test_runs_table_has_one_row_per_record_with_its_numbers(results):
    frame = bench.load_results(results)
    records = {r.run_id: r for r in bench.load_records(results)}
    assert len(frame) == 4 and set(frame["run_id"]) == set(records)
    assert sorted(zip(frame["label"], frame["seed"], strict=True)) == [
        ("sgd_probe", 0),
        ("sgd_probe", 1),
        ("sgd_probe:quick", 0),
        ("sgd_probe:quick", 1),
    ]
    for row in frame.itertuples():
        record = records[row.run_id]
        recomputed = np.mean(np.array(record.predictions) == np.array(record.test_labels))
        assert row.accuracy == pytest.approx(recomputed, abs=1e-12)
        assert row.n_test == 450 and row.status == "ok" and bool(row.current)
        assert row.train_samples_per_s == record.train_samples_per_s > 0
        assert row.latency_p50_ms == record.timings["latency"]["median_ms"]
        assert row.cpu_model == record.environment["cpu_model"]
    quick = frame[frame["preset"] == "quick"]
    assert set(quick["config.max_iter"]) == {5}
    assert set(frame.loc[frame["preset"] == "default", "config.max_iter"]) == {20}
    assert str(frame["seed"].dtype) == "Int64" and str(frame["config.alpha"].dtype) == "float64"
    assert frame["accuracy"].nunique() > 1, "seeded SGD: each seed gives another fit"


def test_per_class_rows_match_scikit_learn_and_the_confusion_matrix(results):
    frame = bench.load_results(results, table="per_class")
    assert len(frame) == 4 * 10
    for record in bench.load_records(results):
        rows = frame[frame["run_id"] == record.run_id].sort_values("class_index")
        precision, recall, f1, support = precision_recall_fscore_support(
            record.test_labels, record.predictions, labels=list(range(10)), zero_division=0
        )
        np.testing.assert_allclose(rows["precision"], precision)
        np.testing.assert_allclose(rows["recall"], recall)
        np.testing.assert_allclose(rows["f1"], f1)
        assert list(rows["support"]) == list(support)
        assert rows["correct"].sum() / rows["support"].sum() == pytest.approx(record.accuracy)
        assert rows["predicted"].sum() == 450
        assert list(rows["class_name"]) == [str(d) for d in range(10)]


def test_per_epoch_rows_are_the_history(results):
    frame = bench.load_results(results, table="per_epoch")
    records = bench.load_records(results)
    assert len(frame) == sum(len(r.history) for r in records)
    for record in records:
        rows = frame[frame["run_id"] == record.run_id]
        assert list(rows["epoch"]) == [entry["epoch"] for entry in record.history]
        assert list(rows["loss"]) == [entry["loss"] for entry in record.history]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_each_format_reads_back_the_same_table(results, fmt, capsys):
    out = results / "exported" / f"runs.{fmt}"
    assert main(["export", "--results-dir", str(results), "--output", str(out)]) == 0
    assert "4 row(s) x" in capsys.readouterr().out
    expected = bench.load_results(results)
    if fmt == "csv":
        back = pd.read_csv(out)
    elif fmt == "parquet":
        back = pd.read_parquet(out)
    else:
        back = pd.read_json(out, orient="records", lines=True)
    assert list(back.columns) == list(expected.columns)
    assert list(back["run_id"]) == list(expected["run_id"])
    np.testing.assert_allclose(back["accuracy"], expected["accuracy"], rtol=1e-14)
    np.testing.assert_allclose(back["latency_p50_ms"], expected["latency_p50_ms"], rtol=1e-14)
    assert list(back["seed"]) == list(expected["seed"])
    assert bench.load_results(out)["run_id"].tolist() == expected["run_id"].tolist()


def test_default_output_per_class_parquet_and_stdout(results, capsys):
    assert (
        main(["export", "--results-dir", str(results), "--format", "parquet", "--per-class"]) == 0
    )
    path = results / "export" / "per_class.parquet"
    assert len(pd.read_parquet(path)) == 40
    capsys.readouterr()
    assert (
        main(
            [
                "export",
                "--results-dir",
                str(results),
                "--per-epoch",
                "--format",
                "jsonl",
                "--output",
                "-",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["epoch"] == 1
    assert main(["export", "--results-dir", str(results), "--format", "parquet", "-o", "-"]) == 2


def test_failed_and_stale_records_are_rows_that_say_so(results, sgd_model, capsys):
    argv = ["run", "--model", "sgd_probe", "--dataset", "digits", "--set", "alpha=0.01"]
    assert main([*argv, "--results-dir", str(results), "--no-report"]) == 0
    spec = build_runs(["sgd_probe:quick"], ["digits"], [7])[0]
    failed = RunRecord.failed(
        spec,
        RunError("RuntimeError", "out of memory"),
        started_at="2030-01-01T00:00:00+00:00",
        finished_at="2030-01-01T00:00:01+00:00",
    )
    write_record(results, failed)
    frame = bench.load_results(results)
    assert len(frame) == 6
    last = frame.iloc[-1]
    assert (last["label"], last["seed"], last["status"]) == ("sgd_probe:quick", 7, "failed")
    assert last["error_type"] == "RuntimeError" and last["error_message"] == "out of memory"
    assert pd.isna(last["accuracy"]) and pd.isna(last["train_samples_per_s"])
    default = frame[frame["label"] == "sgd_probe"]
    current = dict(zip(default["config.alpha"], default["current"].astype(bool), strict=False))
    assert current == {0.001: False, 0.01: True}, "older config of sgd_probe: not current"
    assert frame.loc[frame["label"] == "sgd_probe:quick", "current"].all()


def test_mixed_config_types_become_json_text_and_parquet_still_writes(results, tmp_path):
    records = bench.load_records(results)
    odd = dataclasses.replace(
        records[0], run=dataclasses.replace(records[0].run, config={"max_iter": "auto", "k": [3]})
    )
    frame = records_table([*records[1:], odd]).set_index("run_id")
    assert frame.loc[odd.run_id, "config.max_iter"] == '"auto"'
    assert frame.loc[records[1].run_id, "config.max_iter"] in ("5", "20")
    assert frame.loc[odd.run_id, "config.k"] == "[3]"
    assert pd.isna(frame.loc[records[1].run_id, "config.k"])
    back = read_table(write_table(frame, tmp_path / "mixed.parquet"))
    assert back["config.max_iter"].tolist() == frame["config.max_iter"].tolist()


def test_missing_or_empty_folders_are_clear_errors(tmp_path, capsys):
    assert main(["export", "--results-dir", str(tmp_path / "nowhere")]) == 2
    assert "no results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["export", "--results-dir", str(tmp_path / "empty")]) == 2
    assert "no readable records" in capsys.readouterr().err
    assert bench.load_results(tmp_path / "empty").empty


def test_the_api_docstrings_run_as_doctests(capsys):
    result = doctest.testmod(bench, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0, capsys.readouterr().out


def test_importing_bench_loads_neither_pandas_nor_tensorflow():
    code = (
        "import bench, sys; print(sorted({'pandas', 'tensorflow', 'sklearn'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    assert out.strip() == "[]"
    assert (Path(bench.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize("command", ["export", "diff"])
def test_new_commands_have_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "example" in capsys.readouterr().out.lower()
