"""End to end through the CLI: real training on a small real MNIST subset."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bench.run.executors.local
from bench.cli import main
from bench.models.preprocess import flatten_and_scale, images_with_channel
from bench.models.registry import REGISTRY, register_model
from bench.results.store.files import load_records

SMALL = ["--limit-train", "2000", "--limit-test", "1000"]


@pytest.fixture
def mnist_env(mnist_mirror, bench_home, monkeypatch):
    monkeypatch.setenv("MNIST_BENCH_MIRROR", str(mnist_mirror))
    return mnist_mirror


@pytest.fixture
def broken_models():
    """Two models that fail: one raises while building, one produces a NaN loss."""

    @register_model(family="sklearn", preprocess=flatten_and_scale, config={"C": 1.0})
    def broken_builder(config, input_shape, num_classes):
        """Raises while building."""
        raise RuntimeError("this model is broken on purpose")

    def sgd(config, steps_per_epoch):
        import keras

        return keras.optimizers.SGD(0.01)

    @register_model(
        family="keras",
        preprocess=images_with_channel,
        config={"epochs": 2, "batch_size": 64},
        optimizer=sgd,
    )
    def nan_model(config, input_shape, num_classes):
        """Outputs NaN."""
        import keras

        inputs = keras.Input(shape=input_shape)
        flat = keras.layers.Flatten()(inputs)
        logits = keras.layers.Dense(num_classes)(flat)
        poisoned = keras.layers.Lambda(lambda t: t * float("nan"))(logits)
        return keras.Model(inputs, keras.layers.Softmax()(poisoned))

    yield
    for name in ("broken_builder", "nan_model"):
        REGISTRY.remove(name)


def test_run_all_trains_every_model_and_writes_the_leaderboard(mnist_env, tmp_path, capsys):
    results = tmp_path / "results"
    code = main(["run", "--all", "--quick", *SMALL, "--results-dir", str(results)])
    out = capsys.readouterr().out
    assert code == 0, out
    records = {r.model: r for r in load_records(results)}
    assert {"article_cnn", "mlp", "logreg"} <= set(records)
    for name in ("article_cnn", "mlp", "logreg"):
        record = records[name]
        assert record.ok
        assert (record.n_train, record.n_val, record.n_test) == (2000, 5000, 1000)
        assert record.accuracy > 0.5, f"{name} should be far above chance (0.1)"
        assert len(record.predictions) == 1000
        assert record.test_labels[:5] == [7, 2, 1, 0, 4]
        assert record.inference_samples_per_s > 0
        assert record.timings["latency"]["n"] == 500
        assert record.environment["cpu_model"]
        assert record.dataset_info["source"]
        assert record.dataset_info["validation"]["n"] == 5000
        assert 0 < record.train_seconds <= record.wall_seconds
        cm = np.array(record.metrics["confusion_matrix"])
        assert cm.sum() == 1000
        assert np.trace(cm) / 1000 == pytest.approx(record.accuracy)
        assert record.metrics["log_loss"] > 0 and 0 <= record.metrics["ece"] <= 1
    assert records["article_cnn"].parameters == 563_114
    assert len(records["article_cnn"].history) == 2
    leaderboard = (results / "LEADERBOARD.md").read_text()
    for label in ("article_cnn:quick", "mlp:quick", "logreg:quick"):
        assert label in leaderboard
    details = (results / "RUNS.md").read_text()
    assert "### Per class" in details and "Confusion" in details
    assert "<h1>mnist-bench dashboard</h1>" in (results / "index.html").read_text()
    assert f"leaderboard written to {results / 'LEADERBOARD.md'}" in out


@pytest.mark.slow
def test_the_article_cnn_quick_preset_learns(mnist_env, tmp_path, capsys):
    """The smoke run's article_cnn is no chance-level run: at least 90% on the quick subset."""
    results = tmp_path / "results"
    argv = ["run", "--model", "article_cnn", "--quick", "--limit-test", "2000"]
    assert main([*argv, "--results-dir", str(results)]) == 0, capsys.readouterr().out
    (record,) = load_records(results)
    assert (record.preset, record.n_train) == ("quick", 5000)
    assert record.history[-1]["val_accuracy"] >= 0.90
    assert record.accuracy >= 0.90


def test_failing_models_are_recorded_and_the_others_finish(
    mnist_env, broken_models, tmp_path, capsys
):
    results = tmp_path / "results"
    code = main(
        [
            "run",
            "--model",
            "broken_builder,logreg:quick,nan_model",
            *SMALL,
            "--results-dir",
            str(results),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    records = {r.model: r for r in load_records(results)}
    assert records["logreg"].ok
    assert not records["broken_builder"].ok
    assert records["broken_builder"].error.message == "this model is broken on purpose"
    assert not records["nan_model"].ok
    assert records["nan_model"].error.type == "NonFiniteLoss"
    assert len(records["nan_model"].history) == 1, "training stops after the first NaN epoch"
    assert "1 ok, 2 failed" in out
    assert "failed: nan_model on mnist, seed 0: NonFiniteLoss: training loss became" in out
    leaderboard = (results / "LEADERBOARD.md").read_text()
    assert "Failed runs" in leaderboard and "this model is broken on purpose" in leaderboard


def test_ctrl_c_keeps_finished_records(mnist_env, tmp_path, monkeypatch, capsys):
    real_execute = bench.run.executors.local.execute_run
    calls = []

    def interrupt_second_run(run, *args, **kwargs):
        calls.append(run.model)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_execute(run, *args, **kwargs)

    monkeypatch.setattr(bench.run.executors.local, "execute_run", interrupt_second_run)
    results = tmp_path / "results"
    code = main(["run", "--model", "logreg:quick,mlp:quick", *SMALL, "--results-dir", str(results)])
    assert code == 130
    records = load_records(results)
    assert [r.model for r in records] == ["logreg"]
    path = next((results / "runs").glob("*/record.json"))
    assert json.loads(path.read_text())["status"] == "ok"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--model", "nope"], "unknown model 'nope'"),
        (["run", "--all", "--dataset", "cifar"], "unknown dataset 'cifar'"),
        (["run", "--all", "--set", "epochz=3"], "none of the selected models has a config key"),
        (["run", "--model", "mlp", "--limit-train", "0"], "--limit-train must be a positive"),
    ],
)
def test_bad_input_gives_a_clear_error_without_traceback(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_report_without_records_says_what_to_do(tmp_path, capsys):
    assert main(["report", "--results-dir", str(tmp_path)]) == 2
    assert "train something first" in capsys.readouterr().err


def test_every_command_has_help_with_an_example(capsys):
    for command in ("run", "report", "list", "data"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "example" in capsys.readouterr().out.lower()
