"""bench run --config sweep.toml: the same runs as the equivalent flags, flags win over the file,
clear errors for bad files, and the resolved sweep saved beside the records."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from bench.cli import build_parser, main
from bench.core.errors import BenchError
from bench.results.store.files import load_records
from bench.run.sweep import KEYS, command_line, read_sweep_file, resolve_sweep

SWEEP_TOML = """
models = ["sgd_probe:quick", "sgd_probe"]
datasets = ["digits"]
seeds = [0, 1]
limit_test = 300

[set]
alpha = 0.002

[set.sgd_probe]
max_iter = 7
"""

FLAGS = [
    "run",
    "--model",
    "sgd_probe:quick,sgd_probe",
    "--dataset",
    "digits",
    "--seed",
    "0",
    "--repeats",
    "2",
    "--limit-test",
    "300",
    "--set",
    "alpha=0.002",
    "--set",
    "sgd_probe.max_iter=7",
]


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run_ids(results: Path) -> list[str]:
    return sorted(path.parent.name for path in results.glob("runs/*/record.json"))


def saved_sweeps(results: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((results / "sweeps").glob("*.json"))]


def resolved(argv: list[str]):
    return resolve_sweep(build_parser().parse_args(["run", *argv]))


def test_a_sweep_file_runs_the_same_runs_as_its_flags(tmp_path, sgd_model, capsys):
    config = write(tmp_path, SWEEP_TOML)
    by_file, by_flags = tmp_path / "by-file", tmp_path / "by-flags"
    assert main(["run", "--config", str(config), "--results-dir", str(by_file), "--no-report"]) == 0
    assert main([*FLAGS, "--results-dir", str(by_flags), "--no-report"]) == 0
    assert len(run_ids(by_file)) == 4
    assert run_ids(by_file) == run_ids(by_flags)

    records = {r.run_id: r for r in load_records(by_file)}
    for record in records.values():
        assert record.config["alpha"] == 0.002 and record.config["max_iter"] == 7
        assert record.n_test == 300

    (saved,) = saved_sweeps(by_file)
    assert sorted(saved["run_ids"]) == run_ids(by_file)
    assert saved["source"] == str(config) and saved["source_text"] == SWEEP_TOML
    assert saved["sweep"]["seeds"] == [0, 1]
    assert saved["sweep"]["overrides"] == ["alpha=0.002", "sgd_probe.max_iter=7"]

    # the saved command line reproduces the sweep without the file
    again = tmp_path / "again"
    argv = shlex.split(saved["command"])[3:]  # drop "python -m bench"
    argv[argv.index("--results-dir") + 1] = str(again)
    assert main(argv) == 0
    assert run_ids(again) == run_ids(by_file)


def test_flags_given_on_the_command_line_win_over_the_file(tmp_path):
    config = str(write(tmp_path, 'results_dir = "from-file"\nquick = true\n' + SWEEP_TOML))
    sweep = resolved(["--config", config])
    assert sweep.models == ["sgd_probe:quick", "sgd_probe"] and sweep.seeds == [0, 1]
    assert sweep.quick and sweep.results_dir == Path("from-file") and sweep.limit_test == 300

    sweep = resolved(["--config", config, "--model", "logreg", "--seed", "5", "--limit-test", "9"])
    assert sweep.models == ["logreg"] and sweep.seeds == [5] and sweep.limit_test == 9
    assert resolved(["--config", config, "--repeats", "3"]).seeds == [0, 1, 2]
    assert resolved(["--config", config, "--all"]).models is None
    assert resolved(["--config", config, "--results-dir", "mine"]).results_dir == Path("mine")
    assert not resolved(["--config", config, "--no-report"]).report
    assert resolved(["--config", config, "--dataset", "mnist"]).datasets == ["mnist"]
    # --set is added after the file's values: the command line's value of a key wins
    sweep = resolved(["--config", config, "--set", "alpha=0.5"])
    assert sweep.overrides == ["alpha=0.002", "sgd_probe.max_iter=7", "alpha=0.5"]


def test_the_command_line_value_of_a_set_key_reaches_the_record(tmp_path, sgd_model):
    config = write(tmp_path, SWEEP_TOML)
    results = tmp_path / "results"
    argv = ["run", "--config", str(config), "--model", "sgd_probe", "--seed", "3"]
    assert main([*argv, "--set", "alpha=0.05", "--results-dir", str(results), "--no-report"]) == 0
    (record,) = load_records(results)
    assert (record.seed, record.config["alpha"], record.config["max_iter"]) == (3, 0.05, 7)


def test_defaults_without_a_file_are_the_old_ones():
    sweep = resolved(["--model", "mlp"])
    assert (
        sweep.datasets == ["mnist"] and sweep.seeds == [0] and sweep.results_dir == Path("results")
    )
    assert sweep.report and not sweep.quick and not sweep.resume and sweep.track == []
    assert resolved(["--model", "mlp", "--track", "mlflow,tensorboard"]).track == [
        "mlflow",
        "tensorboard",
    ]
    assert command_line(resolved(["--model", "mlp"])) == (
        "python -m bench run --model mlp --dataset mnist --seed 0 --results-dir results"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('modles = ["mlp"]', "unknown key 'modles'. Did you mean 'models'? Allowed keys: models,"),
        (
            'models = ["mlp"]\nseeds = "0"',
            "'seeds' must be a list of seeds, e.g. [0, 1, 2], got \"0\"",
        ),
        ('models = ["mlp"]\nseeds = [0]\nrepeats = 2', "either 'seeds' or 'seed'/'repeats'"),
        ('models = ["mlp"]\nquick = "yes"', "'quick' must be true or false"),
        ('models = ["mlp"]\nlimit_train = 0', "'limit_train' must be a positive number"),
        ('models = "every"', "'models' must be a list of NAME or NAME:PRESET"),
        ('models = ["mlp"]\n[set]\nlayers = [1, 2]', "'set.layers' must be a number, true/false"),
        ('models = ["mlp"\n', "is not valid TOML"),
    ],
)
def test_bad_sweep_files_name_the_key_and_what_it_takes(tmp_path, text, message, capsys):
    config = write(tmp_path, text)
    with pytest.raises(BenchError, match="sweep file") as error:
        read_sweep_file(config)
    assert message in str(error.value)
    assert main(["run", "--config", str(config), "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_every_allowed_key_is_listed_and_models_are_required(tmp_path, capsys):
    config = write(tmp_path, 'datasets = ["digits"]')
    assert main(["run", "--config", str(config)]) == 2
    assert "say which models to run" in capsys.readouterr().err
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "no sweep file" in capsys.readouterr().err
    assert set(KEYS) >= {"models", "datasets", "seeds", "set", "executor", "track", "resume"}


def test_run_help_says_flags_override_the_file(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "--config FILE" in out and "flags given here override it" in out
