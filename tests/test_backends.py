"""Keras backends as a run axis: run ids, the sweep, pre-flight, and real runs on each backend."""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from bench.cli import main
from bench.core.errors import BenchError
from bench.core.spec import RunSpec
from bench.results.store.files import load_records
from bench.run.backends import parse_backends
from bench.run.preflight import check_sweep
from bench.run.selection import build_runs

INSTALLED = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)]


def test_the_default_backend_keeps_old_run_ids_and_others_get_their_own():
    run = build_runs(["cnn_fast"], ["digits"], [0])[0]
    legacy = {k: v for k, v in run.to_dict().items() if k not in ("backend", "models_from")}
    assert RunSpec.from_dict(legacy).run_id == run.run_id, "records without a backend read back"
    assert run.backend == "tensorflow" and "@" not in run.run_id and run.label == "cnn_fast"
    on_jax = dataclasses.replace(run, backend="jax")
    assert on_jax.config_hash() != run.config_hash()
    assert on_jax.run_id.startswith("digits--cnn_fast.default@jax--seed0--")
    assert on_jax.label == "cnn_fast@jax"
    assert RunSpec.from_dict(on_jax.to_dict()) == on_jax


def test_keras_models_run_on_each_backend_and_other_families_once():
    runs = build_runs(
        ["cnn_fast:bf16", "knn", "torch_cnn"], ["digits"], [0, 1], backends=["jax", "torch"]
    )
    keras = [(r.seed, r.backend) for r in runs if r.model == "cnn_fast"]
    assert keras == [(0, "jax"), (0, "torch"), (1, "jax"), (1, "torch")]
    assert [r.backend for r in runs if r.model == "torch_cnn"] == ["tensorflow", "tensorflow"]
    assert [r.backend for r in runs if r.model == "knn"] == ["tensorflow"]  # deterministic


@pytest.mark.parametrize(
    ("text", "message"),
    [("tensorflow,mxnet", "unknown Keras backend 'mxnet'"), (" , ", "names nothing")],
)
def test_bad_backend_lists_are_refused(text, message, tmp_path, capsys):
    with pytest.raises(BenchError, match=message):
        parse_backends(text)
    argv = ["run", "--model", "cnn_fast", "--dataset", "digits", "--backend", text]
    assert main([*argv, "--results-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_a_backend_that_is_not_installed_is_refused_before_training(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a)
    )
    runs = build_runs(["cnn_fast", "logreg"], ["digits"], [0], backends=["tensorflow", "jax"])
    with pytest.raises(BenchError) as caught:
        check_sweep(runs, tmp_path, say=lambda _line: None)
    message = str(caught.value)
    assert "cnn_fast@jax on digits: the Keras backend 'jax' is not installed" in message
    assert "pip install 'mnist-bench[jax]'" in message
    assert "cnn_fast on digits" not in message and "logreg" not in message


def test_a_non_keras_run_asking_for_a_backend_is_refused(tmp_path):
    run = dataclasses.replace(build_runs(["logreg"], ["digits"], [0])[0], backend="jax")
    with pytest.raises(BenchError, match="--backend applies to Keras models, not sklearn"):
        check_sweep([run], tmp_path, say=lambda _line: None)


@pytest.mark.slow
def test_cnn_fast_runs_on_every_installed_backend(bench_home, tmp_path, capsys):
    """The same command trains the same Keras model on each backend, each in its own process,
    and records say which backend and which versions."""
    results = tmp_path / "results"
    argv = ["run", "--model", "cnn_fast,logreg", "--dataset", "digits", "--no-report"]
    code = main([*argv, "--backend", ",".join(INSTALLED), "--results-dir", str(results)])
    out = capsys.readouterr().out
    assert code == 0, out
    records = {(r.model, r.run.backend): r for r in load_records(results)}
    assert set(records) == {("cnn_fast", b) for b in INSTALLED} | {("logreg", "tensorflow")}
    if INSTALLED != ["tensorflow"]:
        assert "--backend applies to Keras models; logreg: one run per seed, as always" in out
    for backend in INSTALLED:
        record = records[("cnn_fast", backend)]
        assert record.ok, record.error
        assert record.accuracy > 0.5, f"cnn_fast on {backend}: far above chance (0.1)"
        framework = record.environment["framework"]
        assert framework["backend"] == backend and framework[backend]
        assert record.parameters == records[("cnn_fast", INSTALLED[0])].parameters
        if backend == "tensorflow":
            assert record.executor is None, "the default backend trains in this process"
        else:
            assert f"training in a {backend} worker process" in out
            assert record.executor["process"] == f"{backend} worker"
            assert record.label == f"cnn_fast@{backend}"
        if backend == "torch":
            assert any("steps_per_execution=16 ran as 1" in note for note in record.notes)


def test_all_leaves_out_models_whose_framework_is_missing(monkeypatch, capsys):
    from bench.commands.run import all_installed_models

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    names = all_installed_models()
    assert not {"torch_cnn", "torch_fast"} & set(names)
    assert {"cnn_fast", "logreg"} <= set(names)
    out = capsys.readouterr().out
    assert (
        "--all leaves out torch_cnn, torch_fast: torch is not installed "
        "(pip install 'mnist-bench[torch]')" in out
    )


DYING_FILE = '''
import os

from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


def sgd(config, steps_per_epoch):
    import keras

    return keras.optimizers.SGD(0.1)


@register_model(family="keras", preprocess=flatten_and_scale, config={"epochs": 1,
                "batch_size": 32, "die": True}, optimizer=sgd)
def dying_dense(config, input_shape, num_classes):
    """Kills its process while building when config['die'] is set."""
    import keras

    if config["die"]:
        os._exit(3)
    dense = keras.layers.Dense(num_classes, activation="softmax")
    return keras.Sequential([keras.Input(input_shape), dense])
'''


@pytest.mark.slow
@pytest.mark.skipif("jax" not in INSTALLED, reason="needs jax (pip install '.[jax]')")
def test_a_worker_that_dies_fails_its_run_and_the_next_run_gets_a_fresh_one(tmp_path, bench_home):
    from bench.models.user_files import load_model_file, unload_model_files
    from bench.run.backend_worker import BackendWorkers

    path = tmp_path / "dying.py"
    path.write_text(DYING_FILE)
    load_model_file(path)
    try:
        dies, lives = build_runs(
            ["dying_dense"], ["digits"], [0, 1], ["dying_dense.die=true"], backends=["jax"]
        )
        lives = dataclasses.replace(lives, config={**lives.config, "die": False})
        with BackendWorkers() as workers:
            died = workers.run(dies)
            first_pid = workers.workers["jax"].process.pid
            record = workers.run(lives)
            assert workers.workers["jax"].process.pid != first_pid, "a fresh worker"
    finally:
        unload_model_files()
    assert died.status == "failed" and died.error.type == "WorkerDied"
    assert "the jax worker process ended (exit code 3)" in died.error.message
    assert record.ok, record.error
    assert record.executor["process"] == "jax worker"
