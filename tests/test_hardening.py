"""Careless input and faults at the command line: every case gets a short error and the right
exit code, nothing is trained when the input is bad, and nothing finished is lost."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.cli import main
from bench.core.errors import BenchError
from bench.data import DATASETS, DatasetEntry
from bench.data.dataset import Dataset
from bench.results.store.files import load_records
from bench.run.selection import build_runs

REPO = Path(__file__).resolve().parents[1]
DIGITS = ["--dataset", "digits"]


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "epochs=-1"], "mlp: epochs=-1 is below its minimum 1"),
        (["--set", "batch_size=0"], "mlp: batch_size=0 is below its minimum 1"),
        (["--set", "learning_rate=nan"], "learning_rate=nan is not a finite number"),
        (["--set", "mlp.nosuch=1"], "--set mlp.nosuch: 'mlp' has no config key 'nosuch'"),
        (["--seed", "-1"], "--seed must be 0 or more"),
        (["--model", ","], "--model ',' names nothing"),
        (["--dataset", ","], "--dataset ',' names nothing"),
    ],
)
def test_nonsense_values_are_refused_before_anything_runs(extra, message, tmp_path, capsys):
    argv = ["run", "--model", "mlp", *DIGITS, "--results-dir", str(tmp_path), *extra]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert "run(s):" not in out and not list(tmp_path.glob("runs/*/record.json"))


def test_a_model_too_big_for_the_images_is_named_with_its_minimum(tmp_path, capsys):
    argv = ["run", "--model", "article_cnn:quick", *DIGITS, "--results-dir", str(tmp_path)]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert "article_cnn:quick on digits: needs images of at least 10x10 pixels" in err
    assert "this dataset's are 8x8" in err and "\x1b[" not in err, "no ANSI codes"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_a_read_only_results_folder_is_refused_before_training(tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = run_cli(
            ["run", "--model", "logreg:quick", *DIGITS, "--results-dir", str(folder)], capsys
        )
    finally:
        folder.chmod(0o755)
    assert code == 2 and "cannot write results under" in err


def test_a_results_folder_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    not_a_folder = tmp_path / "results"
    not_a_folder.write_text("I am a file")
    argv = ["run", "--model", "logreg:quick", *DIGITS, "--results-dir", str(not_a_folder)]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert f"cannot write results under {not_a_folder}" in err
    assert "choose a writable folder with --results-dir" in err
    assert "training" not in out


@pytest.fixture
def broken_dataset():
    """A registered dataset whose every load fails, as a second dataset of a sweep."""

    def load(data_dir):
        raise BenchError("no source could provide 'broken_set' (tried: nowhere)")

    DATASETS.add("broken_set", DatasetEntry("broken_set", "always fails", load, lambda d: []))
    yield "broken_set"
    DATASETS.remove("broken_set")


def test_a_dataset_that_cannot_load_stops_the_sweep_before_any_training(
    broken_dataset, tmp_path, capsys
):
    argv = ["run", "--model", "logreg:quick", "--dataset", "digits,broken_set"]
    code, out, err = run_cli([*argv, "--results-dir", str(tmp_path)], capsys)
    assert code == 2
    assert "nothing was trained" in err and "dataset broken_set: no source could" in err
    assert not list(tmp_path.glob("runs/*/record.json"))


def test_every_problem_is_listed_at_once(broken_dataset, tmp_path, capsys):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    argv = ["run", "--model", "article_cnn:quick", "--dataset", "digits,broken_set"]
    code, _, err = run_cli([*argv, "--results-dir", str(not_a_folder)], capsys)
    assert code == 2
    assert err.count("\n  - ") == 3, err


def test_a_dataset_registered_in_a_test_trains_and_is_recorded(tmp_path, capsys):
    """A dataset is one registration: no other file needs to know it."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (240, 8, 8), dtype=np.uint8)
    labels = np.repeat(np.arange(3), 80).astype(np.uint8)
    images[labels == 1, :4] = 255  # learnable classes
    images[labels == 2, 4:] = 0

    def load(data_dir):
        return Dataset(
            "stripes",
            images[:180],
            labels[:180],
            images[180:],
            labels[180:],
            ("a", "b", "c"),
            "generated",
            {},
            None,
        )

    DATASETS.add(
        "stripes",
        DatasetEntry(
            "stripes",
            "generated stripes",
            load,
            lambda d: [],
            title="Stripes",
            validation_size=30,
            accuracy_targets=(0.5,),
        ),
    )
    try:
        argv = ["run", "--model", "logreg:quick", "--dataset", "stripes", "--no-report"]
        code, out, _ = run_cli([*argv, "--results-dir", str(tmp_path)], capsys)
    finally:
        DATASETS.remove("stripes")
    assert code == 0, out
    (record,) = load_records(tmp_path)
    assert (record.n_train, record.n_val, record.n_test) == (150, 30, 60)
    assert record.dataset_info["title"] == "Stripes"
    assert record.accuracy > 0.8


def test_sigterm_is_handled_like_ctrl_c_and_keeps_finished_records(tmp_path):
    results = tmp_path / "results"
    command = [sys.executable, "-m", "bench", "run", "--model", "logreg:quick,mlp", *DIGITS]
    process = subprocess.Popen(
        [*command, "--set", "epochs=200", "--results-dir", str(results)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(results.glob("runs/*/record.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # the MLP is training now
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "terminated (SIGTERM): records already written are kept" in err
    assert "Traceback" not in err
    assert [r.model for r in load_records(results)] == ["logreg"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=4))
def test_any_set_values_resolve_or_give_a_bench_error(pairs):
    """Whatever a user types after --set, config resolution answers with a config or our
    own error, never a traceback from inside."""
    with contextlib.suppress(BenchError):
        build_runs(["mlp", "logreg"], ["digits"], [0], pairs)


def test_report_on_a_folder_it_cannot_write_says_so(tmp_path, capsys, sgd_model):
    results = tmp_path / "results"
    argv = ["run", "--model", "sgd_probe", "--dataset", "digits", "--no-report"]
    assert main([*argv, "--results-dir", str(results)]) == 0
    (results / "LEADERBOARD.md").mkdir()  # a folder where the file should go: writing fails
    code, _, err = run_cli(["report", "--results-dir", str(results)], capsys)
    assert code == 2
    assert f"cannot write the leaderboard under {results}" in err and "Traceback" not in err
