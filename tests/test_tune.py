"""bench tune on digits: studies, trial records, tuned presets, the test set never read, bad
input refused before any training, failures recorded while the study goes on."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("optuna", reason="pip install 'mnist-bench[tune]'")

import optuna  # noqa: E402

from bench.cli import main  # noqa: E402
from bench.core.spec import RunSpec  # noqa: E402
from bench.models.registry import get_model, list_models  # noqa: E402
from bench.results.store.files import load_records  # noqa: E402
from bench.results.store.tuned import preset_path  # noqa: E402
from bench.tune.budget import Budget  # noqa: E402
from bench.tune.spaces import checked_space  # noqa: E402
from bench.tune.study import StudySettings, run_study, storage_url  # noqa: E402

TUNE = ["tune", "--dataset", "digits", "--trial-budget", "5"]


def study_trials(results: Path, name: str) -> list[tuple]:
    """Each trial of a stored study as (number, state, value, params)."""
    study = optuna.load_study(study_name=name, storage=storage_url(results))
    return [(t.number, t.state.name, t.value, t.params) for t in study.trials]


def test_every_builtin_model_declares_a_valid_space():
    for name in list_models():
        space = checked_space(get_model(name))
        assert space, name


def test_logreg_study_writes_trial_records_and_a_tuned_preset_that_run_uses(tmp_path, capsys):
    results = tmp_path / "results"
    argv = [*TUNE, "--model", "logreg", "--trials", "3", "--sampler", "random"]
    assert main([*argv, "--pruner", "none", "--results-dir", str(results)]) == 0
    out = capsys.readouterr().out
    assert "3 trials (3 complete, 0 pruned, 0 failed)" in out
    trials = study_trials(results, "digits--logreg--search0")
    assert [t[1] for t in trials] == ["COMPLETE"] * 3
    records = load_records(results / "tuning" / "digits" / "logreg")
    assert len(records) == 3
    for record in records:
        assert record.ok and record.run.tuning["study"] == "digits--logreg--search0"
        assert record.n_test == 0 and not record.test_labels and not record.predictions
        assert "accuracy" not in record.metrics  # no test accuracy: only validation
        assert record.dataset_info["protocol"] == "holdout"
    preset = json.loads(preset_path(results, "digits", "logreg").read_text())
    best = max(trials, key=lambda t: t[2])
    assert preset["best_val_accuracy"] == pytest.approx(best[2])
    assert preset["config"] == best[3]
    assert preset["budget"] == Budget(3, 5.0).to_dict()
    assert preset["trials"] == {
        "total": 3,
        "complete": 3,
        "pruned": 0,
        "failed": 0,
        "over_budget": 0,
    }
    assert preset["sampler"] == "random" and preset["search_seed"] == 0
    assert preset["code_fingerprint"] and preset["space_hash"]

    run_argv = ["run", "--model", "logreg:tuned", "--dataset", "digits", "--no-report"]
    assert main([*run_argv, "--results-dir", str(results)]) == 0
    (record,) = load_records(results)
    assert record.preset == "tuned"
    assert record.config["C"] == pytest.approx(preset["config"]["C"])
    assert record.config["tol"] == pytest.approx(preset["config"]["tol"])


def test_replacing_every_test_label_leaves_the_study_identical(tmp_path, monkeypatch):
    """The trials of a study never read a test label (nor a test image)."""
    from bench.data import load_dataset
    from bench.run.executors import local

    def scrambled(name, data_dir=None):
        data = load_dataset(name, data_dir)
        return dataclasses.replace(
            data, y_test=(data.y_test + 1) % 10, x_test=np.zeros_like(data.x_test)
        )

    def search(results: Path) -> list[tuple]:
        settings = StudySettings("logreg", "digits", Budget(4, 5.0), sampler="tpe", pruner="none")
        run_study(
            settings,
            results,
            lambda runs, folder: local.run_in_process(runs, folder, say=lambda _: None),
        )
        return study_trials(results, settings.name)

    honest = search(tmp_path / "a")
    monkeypatch.setattr(local, "load_dataset", scrambled)
    assert search(tmp_path / "b") == honest


def test_resume_continues_and_refuses_another_budget(tmp_path):
    results = str(tmp_path / "results")
    base = ["tune", "--dataset", "digits", "--model", "knn", "--results-dir", results]
    assert main([*base, "--trials", "2", "--trial-budget", "5"]) == 0
    assert main([*base, "--trials", "2", "--trial-budget", "5"]) == 2  # exists: --resume
    assert main([*base, "--trials", "3", "--trial-budget", "6", "--resume"]) == 2
    assert len(study_trials(tmp_path / "results", "digits--knn--search0")) == 2
    assert main([*base, "--trials", "3", "--trial-budget", "5", "--resume"]) == 0
    assert len(study_trials(tmp_path / "results", "digits--knn--search0")) == 3


BAD_MODELS = textwrap.dedent(
    '''
    from bench.models.preprocess import flatten_and_scale
    from bench.models.registry import register_model
    from bench.models.space import FloatRange, IntRange


    def _forest(config):
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=5, max_depth=config["depth"])


    @register_model(family="sklearn", preprocess=flatten_and_scale, config={"depth": 3})
    def no_space(config, input_shape, num_classes):
        """A model without a search space."""
        return _forest(config)


    @register_model(
        family="sklearn",
        preprocess=flatten_and_scale,
        config={"depth": 3},
        space={"depth": FloatRange(5.0, 1.0)},
    )
    def inverted(config, input_shape, num_classes):
        """A space with its bounds the wrong way round."""
        return _forest(config)


    @register_model(
        family="keras",
        preprocess=flatten_and_scale,
        config={"epochs": 1, "batch_size": 32},
        optimizer=lambda config, steps: None,
        space={"epochs": IntRange(0, 3)},
    )
    def below_rule(config, input_shape, num_classes):
        """A space reaching below the family's epochs >= 1."""
        raise AssertionError("never built")


    @register_model(
        family="sklearn",
        preprocess=flatten_and_scale,
        config={"depth": 3},
        space={"depth": IntRange(1, 8)},
    )
    def crashes_deep(config, input_shape, num_classes):
        """Fails for depths above 4, as a broken model would."""
        if config["depth"] > 4:
            raise RuntimeError("too deep for this model")
        return _forest(config)
    '''
)


@pytest.fixture
def bad_models(tmp_path):
    path = tmp_path / "bad_models.py"
    path.write_text(BAD_MODELS)
    yield str(path)
    from bench.models.user_files import unload_model_files

    unload_model_files()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "no_such_model", "--trials", "2"], "no_such_model"),
        (["--model", "no_space", "--trials", "2"], "declares no search space"),
        (["--model", "inverted", "--trials", "2"], "swap them"),
        (["--model", "below_rule", "--trials", "2"], "below the declared minimum 1"),
        (["--model", "knn", "--trials", "0"], "--trials must be 1 or more"),
        (["--model", "knn", "--trials", "2", "--trial-budget", "0.2"], "too small for one"),
    ],
)
def test_bad_input_exits_2_before_training(bad_models, tmp_path, capsys, extra, message):
    results = tmp_path / "results"
    argv = ["tune", "--dataset", "digits", "--models-from", bad_models, *extra]
    assert main([*argv, "--results-dir", str(results)]) == 2
    assert message in capsys.readouterr().err
    assert not (results / "tuning" / "digits").exists()


def test_a_crashing_trial_is_recorded_failed_and_the_study_goes_on(bad_models, tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["tune", "--dataset", "digits", "--models-from", bad_models, "--model", "crashes_deep"]
    argv += ["--trials", "6", "--sampler", "random", "--search-seed", "3", "--pruner", "none"]
    assert main([*argv, "--results-dir", str(results)]) == 0
    states = [t[1] for t in study_trials(results, "digits--crashes_deep--search3")]
    assert len(states) == 6 and "FAIL" in states and "COMPLETE" in states
    failed = [r for r in load_records(results / "tuning" / "digits" / "crashes_deep") if not r.ok]
    assert failed and all("too deep" in str(r.error) for r in failed)
    preset = json.loads(preset_path(results, "digits", "crashes_deep", 3).read_text())
    assert preset["trials"]["failed"] == states.count("FAIL")
    assert preset["config"]["depth"] <= 4


def test_two_search_seeds_report_the_search_spread(tmp_path, capsys):
    results = tmp_path / "results"
    argv = [*TUNE, "--model", "logreg", "--trials", "2", "--search-seed", "0,1"]
    assert main([*argv, "--results-dir", str(results)]) == 0
    assert "over 2 search seeds" in capsys.readouterr().out
    assert preset_path(results, "digits", "logreg", 1).is_file()


def test_a_stale_tuned_preset_is_refused_with_the_command_that_remakes_it(tmp_path, capsys):
    results = tmp_path / "results"
    assert main([*TUNE, "--model", "knn", "--trials", "1", "--results-dir", str(results)]) == 0
    path = preset_path(results, "digits", "knn")
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "code_fingerprint": "0" * 12}))
    argv = ["run", "--model", "knn:tuned", "--dataset", "digits", "--results-dir", str(results)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "stale" in err and "bench tune --model knn --dataset digits" in err


def test_list_spaces_shows_each_searched_key(capsys):
    assert main(["list", "--spaces", "mlp"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate" in out and "float 0.0001..0.01 (log)" in out and "dropout" in out


def test_a_trial_spec_round_trips_and_differs_from_an_ordinary_run():
    plain = RunSpec("logreg", "trial0", "digits", 0, {"C": 1.0})
    trial = dataclasses.replace(plain, tuning={"study": "s", "number": 0})
    assert RunSpec.from_dict(trial.to_dict()) == trial
    assert plain.run_id != trial.run_id
