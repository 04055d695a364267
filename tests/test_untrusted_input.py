"""Issue 25's defects, one regression test each: what lies in a results folder or a cache is
never trusted blindly, a command writes only where it was told, every bound is checked before
anything trains, and exit 2 always means nothing trained. They all run as root (as CI does):
none relies on file permissions."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.core.errors import BenchError
from bench.results.store.files import load_records, scan_records
from bench.results.store.stale import current_records

MODEL = "sgd_guard"
DIGITS = ["--dataset", "digits"]
NOISY_WARNING = "daemon=True, setting n_jobs=1"


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def quick_run(results: Path, *extra: str) -> list[str]:
    """``bench run`` of this module's sub-second model on digits into ``results``."""
    return ["run", "--model", f"{MODEL}:quick", *DIGITS, "--results-dir", str(results), *extra]


@pytest.fixture(scope="module")
def guard_model():
    """A seeded sub-second scikit-learn model whose seeds give different fits (module-wide)."""
    from bench.models.preprocess import flatten_and_scale
    from bench.models.registry import REGISTRY, register_model

    @register_model(
        family="sklearn",
        preprocess=flatten_and_scale,
        config={"alpha": 1e-3, "max_iter": 20, "noisy": 0},
        presets={"quick": {"max_iter": 5}},
    )
    def sgd_guard(config, input_shape, num_classes):
        """Logistic regression by SGD; ``noisy`` warnings per prediction (test model)."""
        from sklearn.linear_model import SGDClassifier

        class NoisySGD(SGDClassifier):
            def predict_proba(self, x):
                for _ in range(config["noisy"]):
                    with warnings.catch_warnings():  # as joblib does: Python forgets it showed it
                        warnings.warn(NOISY_WARNING, UserWarning, stacklevel=1)
                return super().predict_proba(x)

        return NoisySGD(loss="log_loss", alpha=config["alpha"], max_iter=config["max_iter"])

    yield MODEL
    REGISTRY.remove(MODEL)


@pytest.fixture(scope="module")
def trained(guard_model, tmp_path_factory):
    """A results folder with two ok records (seeds 0 and 1), trained once for the module."""
    results = tmp_path_factory.mktemp("trained") / "results"
    assert main(quick_run(results, "--repeats", "2", "--no-report")) == 0
    return results


@pytest.fixture
def results(trained, tmp_path):
    """A fresh copy of the trained folder for one test."""
    copy = tmp_path / "results"
    shutil.copytree(trained, copy)
    return copy


def run_folders(results: Path) -> list[Path]:
    return sorted(path.parent for path in results.glob("runs/*/record.json"))


# --- 1: export -o writes only a regular file, in a folder that exists -------------------------


def test_export_refuses_a_fifo_a_link_and_a_missing_folder(results, tmp_path, capsys):
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    link = tmp_path / "full.csv"
    link.symlink_to("/dev/full")
    for target, kind in ((fifo, "a FIFO"), (link, "a symbolic link")):
        code, _, err = run_cli(["export", "-o", str(target), "--results-dir", str(results)], capsys)
        assert code == 2 and f"--output {target} is {kind}" in err
    assert fifo.is_fifo() and link.is_symlink(), "left as they were"
    missing = tmp_path / "nonexistent" / "dir" / "x.csv"
    code, _, err = run_cli(["export", "-o", str(missing), "--results-dir", str(results)], capsys)
    assert code == 2 and "does not exist; create it first, or add --parents" in err
    assert not (tmp_path / "nonexistent").exists()
    argv = ["export", "-o", str(missing), "--parents", "--results-dir", str(results)]
    assert run_cli(argv, capsys)[0] == 0 and missing.read_text().count("\n") == 3  # header + 2


# --- 2, 3, 9: a bad record or probabilities file is listed and skipped ------------------------


def spoil(results: Path, tmp_path: Path) -> dict[str, str]:
    """Next to the two good records, one bad record of each kind; returns folder -> reason."""
    good = run_folders(results)[0]
    bad = {
        "non-utf8": "is not UTF-8 text (byte 0xe9 at offset 9)",
        "deep": "nests deeper than 64 levels",
        "device": "is a link to /dev/zero, outside",
        "fifo": "is a FIFO (named pipe), not a regular file",
        "outside": "outside",
    }
    for name in bad:
        (results / "runs" / name).mkdir()
    runs = results / "runs"
    (runs / "non-utf8" / "record.json").write_bytes(b'{"a":"caf\xe9"}')
    (runs / "deep" / "record.json").write_text("[" * 200_000 + "]" * 200_000)
    (runs / "device" / "record.json").symlink_to("/dev/zero")
    os.mkfifo(runs / "fifo" / "record.json")
    outside = tmp_path / "elsewhere.json"
    shutil.copy(good / "record.json", outside)
    (runs / "outside" / "record.json").symlink_to(outside)
    return bad


def test_bad_records_are_listed_with_their_reason_and_skipped(results, tmp_path, capsys):
    bad = spoil(results, tmp_path)
    outcome: dict[str, object] = {}
    reader = threading.Thread(target=lambda: outcome.update(scan=scan_records(results)))
    reader.daemon = True
    reader.start()
    reader.join(60)
    assert not reader.is_alive(), "reading the records blocked (the FIFO)"
    good, problems = outcome["scan"]
    assert len(good) == 2
    assert {p.path.parent.name: p.reason for p in problems}.keys() == bad.keys()
    for problem in problems:
        assert bad[problem.path.parent.name] in problem.reason

    code, _, err = run_cli(["report", "--results-dir", str(results)], capsys)
    assert code == 0 and "Traceback" not in err
    runs_md = (results / "RUNS.md").read_text()
    assert all(f"`runs/{name}`" in runs_md and reason in runs_md for name, reason in bad.items())
    code, out, err = run_cli(["export", "-o", "-", "--results-dir", str(results)], capsys)
    assert code == 0 and out.count("\n") == 3 and err.count("left out (unreadable)") == len(bad)
    code, out, _ = run_cli(["diff", str(results), str(results), "--json"], capsys)
    assert code == 0 and MODEL in out


def test_resume_reruns_a_record_that_cannot_be_read(results, capsys):
    first = run_folders(results)[0] / "record.json"
    first.unlink()
    first.symlink_to("/dev/zero")
    code, out, _ = run_cli(quick_run(results, "--repeats", "2", "--resume", "--no-report"), capsys)
    assert code == 0
    assert "rerun sgd_guard:quick/digits (unusable record (is a link to /dev/zero, outside" in out
    assert first.is_file() and not first.is_symlink(), "replaced by the rerun's record"


@pytest.mark.parametrize("damage", ["swapped", "deleted", "corrupted"])
def test_probabilities_that_do_not_match_their_record_make_it_unusable(results, capsys, damage):
    seed0, seed1 = run_folders(results)
    target = seed1 / "probabilities.npz"
    if damage == "swapped":
        shutil.copy(seed0 / "probabilities.npz", target)
    elif damage == "deleted":
        target.unlink()
    else:
        target.write_bytes(target.read_bytes()[:-10])
    record_set = current_records(results)  # what report, compare and diff read
    assert [r.seed for r in record_set.current] == [0]
    (left_out,) = record_set.stale
    assert left_out.reason.startswith("unreadable: unusable probabilities:")
    reason = "does not exist" if damage == "deleted" else "does not match the SHA-256"
    assert reason in left_out.reason
    code, out, _ = run_cli(["export", "-o", "-", "--results-dir", str(results)], capsys)
    assert code == 0 and out.count("\n") == 2, "export keeps seed 0 only"
    code, out, _ = run_cli(quick_run(results, "--repeats", "2", "--resume", "--no-report"), capsys)
    assert (
        code == 0 and "rerun sgd_guard:quick/digits (unusable record (unusable probabilities" in out
    )
    assert len(current_records(results).current) == 2


# --- 4: an MLflow server that does not answer ------------------------------------------------


def test_an_unreachable_tracking_server_is_named_before_training(guard_model, tmp_path, capsys):
    pytest.importorskip("mlflow")
    start = time.monotonic()
    argv = quick_run(tmp_path, "--track", "mlflow", "--tracking-uri", "http://127.0.0.1:9")
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and time.monotonic() - start < 60
    assert "the MLflow tracking server at http://127.0.0.1:9 did not answer within 5s" in err
    assert not list(tmp_path.glob("runs/*/record.json"))


# --- 5: names become paths only when they are safe --------------------------------------------

ESCAPING_FILE = '''
from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


def escaping(config, input_shape, num_classes):
    """A model with a preset that names a way out of runs/."""
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", max_iter=config["max_iter"])


register_model(
    family="sklearn",
    preprocess=flatten_and_scale,
    config={"max_iter": 5},
    presets={"../../../ESCAPED": {"max_iter": 6}},
)(escaping)
long_name = lambda config, input_shape, num_classes: escaping(config, input_shape, num_classes)
long_name.__name__ = "m" * 300
register_model(family="sklearn", preprocess=flatten_and_scale, config={"max_iter": 5})(long_name)
'''


@pytest.fixture
def escaping_file(tmp_path):
    from bench.models.user_files import unload_model_files

    path = tmp_path / "escaping.py"
    path.write_text(ESCAPING_FILE)
    yield path
    unload_model_files()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("escaping:../../../ESCAPED", "the preset name '../../../ESCAPED' holds characters"),
        ("m" * 300, "is 300 characters long, more than the 64 allowed"),
    ],
)
def test_a_name_that_is_no_safe_file_name_is_refused_before_training(
    escaping_file, tmp_path, monkeypatch, capsys, model, message
):
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    argv = ["run", "--models-from", str(escaping_file), "--model", model, *DIGITS]
    code, out, err = run_cli([*argv, "--results-dir", "R"], capsys)
    assert code == 2 and "nothing was trained" in err and message in err
    assert not list(tmp_path.rglob("record.json")) and "run(s):" not in out


# --- 6, 7: every bound before anything runs ---------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--repeats", "100000000000"], "--repeats 100000000000 is more than 1,000"),
        (["--seed", str(2**32)], "seeds must be below 2**32"),
        (["--seed", str(2**32 - 2), "--repeats", "3"], "reaches seed 4294967296"),
        (["--scheduler", "tcp://127.0.0.1:99999"], "the port must be a number from 1 to 65535"),
        (["--scheduler", "tcp://127.0.0.1:0"], "the port must be a number from 1 to 65535"),
        (["--scheduler", "not-an-address"], "it names no port"),
        (["--scheduler", "http://host:8786"], "unknown protocol 'http'"),
    ],
)
def test_out_of_bounds_values_are_refused_before_anything_runs(
    guard_model, tmp_path, capsys, extra, message
):
    code, out, err = run_cli(quick_run(tmp_path, *extra), capsys)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "sweeps").exists() and not list(tmp_path.glob("runs/*/record.json"))
    assert "run(s):" not in out


def test_the_largest_seed_trains(guard_model, tmp_path, capsys):
    code, _, _ = run_cli(quick_run(tmp_path, "--seed", str(2**32 - 1), "--no-report"), capsys)
    assert code == 0 and [r.seed for r in load_records(tmp_path)] == [2**32 - 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"models = ['m']\nrepeats = 100000000000\n", "is more than 1,000"),
        (b"models = ['m']\nseeds = [0, 4294967296]\n", "seed 4294967296 is outside 0 to 2**32 - 1"),
        (b"models = ['m'] # caf\xe9\n", "is not UTF-8 text (byte 0xe9 at offset 20)"),
        (b"a = " + b"[" * 100_000 + b"]" * 100_000, "nests deeper than 64 levels"),
    ],
)
def test_a_sweep_file_out_of_bounds_is_refused(guard_model, tmp_path, capsys, text, message):
    path = tmp_path / "sweep.toml"
    path.write_bytes(text)
    argv = ["run", "--config", str(path), *DIGITS, "--results-dir", str(tmp_path / "R")]
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_cache_manifest_nested_100k_deep_is_named(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "home" / "mnist"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    monkeypatch.setenv("MNIST_BENCH_HOME", str(tmp_path / "home"))
    code, out, err = run_cli(["data", "verify", "--dataset", "mnist"], capsys)
    assert code == 1 and "Traceback" not in err
    assert f"{folder / 'manifest.json'}" in out + err and "nests deeper than 64 levels" in out + err


# --- 8: a model file that calls sys.exit -------------------------------------------------------


def test_a_model_file_that_calls_sys_exit_is_an_error_of_that_file(tmp_path, capsys):
    path = tmp_path / "exits.py"
    path.write_text("import sys\n\nsys.exit(0)\n")
    with pytest.raises(SystemExit) as exited:  # argparse's error exit, while parsing
        main(["run", "--models-from", str(path), "--model", "logreg", *DIGITS])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert (
        f"--models-from {path}: the file called sys.exit(0) while being imported on line 3" in err
    )


# --- 10: exit 2 only before training; 3 when writing fails afterwards --------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda r: (r / "LEADERBOARD.md").mkdir(parents=True), "LEADERBOARD.md is a folder"),
        (lambda r: (r / "RUNS.md").mkdir(parents=True), "RUNS.md is a folder"),
        (lambda r: r.mkdir() or (r / "figures").write_text(""), "figures is not a folder"),
        (lambda r: r.mkdir() or (r / "runs").write_text(""), "cannot write results under"),
    ],
)
def test_report_files_that_cannot_be_written_stop_the_sweep_before_training(
    guard_model, tmp_path, capsys, make, message
):
    results = tmp_path / "results"
    make(results)
    code, _, err = run_cli(quick_run(results), capsys)
    assert code == 2 and "nothing was trained" in err and message in err
    assert not list(results.glob("runs/*/record.json"))


def test_a_record_that_cannot_be_written_after_training_exits_3(
    guard_model, tmp_path, monkeypatch, capsys
):
    from bench.results.store import files

    def disk_full(path, payload):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files, "atomic_write_json", disk_full)
    code, _, err = run_cli(quick_run(tmp_path), capsys)
    assert code == 3
    assert "cannot write the record" in err and "No space left on device" in err
    assert "rerun the same command with --resume" in err


def test_a_leaderboard_that_fails_after_training_exits_3_and_keeps_the_records(
    guard_model, tmp_path, monkeypatch, capsys
):
    from bench.results.report import leaderboard

    def refuse(results_dir, **_):
        raise BenchError("cannot write the leaderboard under there (No space left on device)")

    monkeypatch.setattr(leaderboard, "write_leaderboard", refuse)
    code, _, err = run_cli(quick_run(tmp_path), capsys)
    assert code == 3 and "write the leaderboard later with 'python -m bench report" in err
    assert len(load_records(tmp_path)) == 1


# --- 11: a warning repeated in a run is shown once, with its count -----------------------------


def test_a_warning_repeated_in_a_run_is_shown_once_with_its_count(guard_model, tmp_path, recwarn):
    """Like scikit-learn's n_jobs warning on a Dask worker: 529 lines from one run before."""
    argv = quick_run(tmp_path, "--set", "noisy=7", "--no-report")
    assert main(argv) == 0
    (shown,) = [str(w.message) for w in recwarn if NOISY_WARNING in str(w.message)]
    times = int(
        re.fullmatch(rf"{re.escape(NOISY_WARNING)} \[([\d,]+) times in this run\]", shown)
        .group(1)
        .replace(",", "")
    )
    assert times >= 7 * 3 and times % 7 == 0, "every prediction's warnings, counted"


# --- 12: SIGTERM during a command that has no --resume -----------------------------------------


def test_sigterm_during_report_does_not_talk_of_resuming_a_sweep(results, monkeypatch, capsys):
    from bench.results.report import leaderboard

    started = threading.Event()

    def slow(results_dir, **_):
        started.set()
        time.sleep(60)

    monkeypatch.setattr(leaderboard, "write_leaderboard", slow)

    def terminate() -> None:
        if started.wait(30):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate, daemon=True).start()
    code, _, err = run_cli(["report", "--results-dir", str(results)], capsys)
    assert code == 143
    assert "terminated (SIGTERM)" in err and "--resume" not in err and "sweep" not in err
    assert "run the command again" in err


def test_the_probabilities_file_is_still_read_by_the_api(results):
    from bench.results.store.files import read_probabilities

    record = load_records(results)[0]
    arrays = read_probabilities(results, record)
    assert set(arrays) == {"val", "test"} and arrays["test"].dtype == np.float32
