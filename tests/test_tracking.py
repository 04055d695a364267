"""--track mlflow / tensorboard and bench export --to: everything read back with the trackers'
own clients (MlflowClient, TensorBoard's EventAccumulator) from real runs on digits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("mlflow", reason="pip install 'mnist-bench[mlflow]'")
pytest.importorskip("tensorboard", reason="pip install 'mnist-bench[tensorboard]'")

from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)
from tensorboard.util import tensor_util  # noqa: E402

from bench.cli import main  # noqa: E402
from bench.results.store.files import load_records, record_path  # noqa: E402
from bench.results.tracking import open_trackers, timestamp  # noqa: E402

SGD = ["run", "--model", "sgd_probe:quick", "--dataset", "digits", "--repeats", "2"]


def local_client(results: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{(results / 'mlflow' / 'mlflow.db').resolve()}")


def mlflow_runs(client: MlflowClient) -> list:
    experiment = client.get_experiment_by_name("mnist-bench")
    return [] if experiment is None else client.search_runs([experiment.experiment_id])


@pytest.fixture(scope="module")
def keras_run(tmp_path_factory) -> Path:
    """One real Keras run (mlp:quick, 3 epochs on digits) tracked by MLflow and TensorBoard."""
    results = tmp_path_factory.mktemp("tracked") / "results"
    argv = ["run", "--model", "mlp:quick", "--dataset", "digits", "--set", "epochs=3"]
    argv += ["--track", "mlflow", "--track", "tensorboard", "--results-dir", str(results)]
    assert main([*argv, "--no-report"]) == 0
    return results


@pytest.mark.slow
def test_mlflow_run_holds_params_epoch_and_final_metrics_tags_and_the_record(keras_run, tmp_path):
    (record,) = load_records(keras_run)
    client = local_client(keras_run)
    (run,) = mlflow_runs(client)
    mlflow_id = run.info.run_id
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "mlp:quick digits seed 0"
    assert run.info.start_time == round(timestamp(record.started_at) * 1000)
    assert run.info.end_time == round(timestamp(record.finished_at) * 1000)

    params = run.data.params
    assert (params["model"], params["preset"], params["dataset"], params["seed"]) == (
        "mlp",
        "quick",
        "digits",
        "0",
    )
    assert params["config.epochs"] == "3"
    assert params["config.batch_size"] == str(record.config["batch_size"])

    assert len(record.history) == 3
    for key, name in (("loss", "train_loss"), ("val_accuracy", "val_accuracy")):
        points = sorted(client.get_metric_history(mlflow_id, name), key=lambda m: m.step)
        assert [(m.step, m.value) for m in points] == [(e["epoch"], e[key]) for e in record.history]
        stamps = [m.timestamp for m in points]
        assert stamps == sorted(stamps) and stamps[0] >= run.info.start_time

    metrics = run.data.metrics
    assert metrics["test_accuracy"] == record.accuracy
    assert metrics["test_log_loss"] == record.metrics["log_loss"]
    assert metrics["train_samples_per_s"] == pytest.approx(record.train_samples_per_s)
    assert metrics["parameters"] == record.parameters > 0

    tags = run.data.tags
    assert tags["bench.run_id"] == record.run_id
    assert tags["bench.code_fingerprint"] == record.run.code_fingerprint
    assert tags["bench.cpu_model"] == record.environment["cpu_model"]
    assert tags["bench.lib.tensorflow"] == record.environment["libraries"]["tensorflow"]

    assert [a.path for a in client.list_artifacts(mlflow_id)] == ["record.json"]
    copy = Path(client.download_artifacts(mlflow_id, "record.json", str(tmp_path)))
    assert json.loads(copy.read_text()) == json.loads(
        record_path(keras_run, record.run_id).read_text()
    )


@pytest.mark.slow
def test_tensorboard_event_file_has_every_epoch_and_the_test_metrics(keras_run):
    (record,) = load_records(keras_run)
    folder = keras_run / "tensorboard" / record.run_id
    assert len(list(folder.glob("events.out.tfevents.*"))) == 1
    events = EventAccumulator(str(folder))
    events.Reload()

    def series(tag):
        return [
            (e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)
        ]

    losses = series("loss/train")
    assert [step for step, _ in losses] == [1, 2, 3]
    assert [v for _, v in losses] == pytest.approx([e["loss"] for e in record.history], rel=1e-6)
    assert [v for _, v in series("accuracy/val")] == pytest.approx(
        [e["val_accuracy"] for e in record.history], rel=1e-6
    )
    assert series("test/accuracy") == [(3, pytest.approx(record.accuracy, rel=1e-6))]
    assert events.SummaryMetadata("loss/train").plugin_data.plugin_name == "scalars"
    started = timestamp(record.started_at)
    wall = [e.wall_time for e in events.Tensors("loss/train")]
    expected = [started + e["elapsed_seconds"] for e in record.history]
    assert wall == pytest.approx(expected, abs=1e-3)


def test_export_to_mlflow_sends_existing_records_once_with_the_confusion_figure(
    tmp_path, sgd_model, capsys, monkeypatch
):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = tmp_path / "results"
    assert main([*SGD, "--results-dir", str(results), "--no-report"]) == 0
    records = load_records(results)
    figure = results / "figures" / "digits_sgd_probe-quick_confusion.png"
    figure.parent.mkdir()
    fig, axis = plt.subplots()
    axis.imshow(records[0].metrics["confusion_matrix"])
    fig.savefig(figure)
    plt.close(fig)
    capsys.readouterr()

    assert main(["export", "--to", "mlflow", "--results-dir", str(results)]) == 0
    client = local_client(results)
    runs = mlflow_runs(client)
    assert sorted(r.data.tags["bench.run_id"] for r in runs) == sorted(r.run_id for r in records)
    for run in runs:
        paths = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert "record.json" in paths
        assert [a.path for a in client.list_artifacts(run.info.run_id, "figures")] == [
            "figures/digits_sgd_probe-quick_confusion.png"
        ]
    capsys.readouterr()
    assert main(["export", "--to", "mlflow", "--results-dir", str(results)]) == 0
    assert capsys.readouterr().out.count("already in MLflow") == 2
    assert len(mlflow_runs(client)) == 2

    elsewhere = f"sqlite:///{tmp_path / 'other.db'}"
    argv = ["export", "--to", "mlflow", "--results-dir", str(results), "--tracking-uri", elsewhere]
    monkeypatch.chdir(tmp_path / "results")
    assert main(argv) == 0
    assert len(mlflow_runs(MlflowClient(tracking_uri=elsewhere))) == 2
    assert len(list((tmp_path / "artifacts").glob("*/artifacts/record.json"))) == 2
    assert not (tmp_path / "results" / "mlruns").exists(), "artifacts beside the database"


def test_a_failing_tracker_warns_and_the_record_is_kept(tmp_path, sgd_model, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise MlflowException("the tracking server said no")

    monkeypatch.setattr(MlflowClient, "log_batch", refuse)
    results = tmp_path / "results"
    assert main([*SGD, "--results-dir", str(results), "--no-report", "--track", "mlflow"]) == 0
    out = capsys.readouterr().out
    assert out.count("warning: mlflow did not take run") == 2
    assert "the tracking server said no" in out and "bench export --to mlflow" in out
    assert len(load_records(results)) == 2, "the records are written whatever the tracker does"
    assert mlflow_runs(local_client(results)) == [], "half-logged runs are removed"

    monkeypatch.undo()
    assert main(["export", "--to", "mlflow", "--results-dir", str(results)]) == 0
    assert len(mlflow_runs(local_client(results))) == 2


def test_unknown_or_uninstalled_trackers_stop_before_any_training(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    argv = ["run", "--model", "logreg:quick", "--dataset", "digits", "--results-dir", str(results)]
    assert main([*argv, "--track", "wandb"]) == 2
    assert "unknown tracker 'wandb'" in capsys.readouterr().err
    for module in ("mlflow", "mlflow.tracking", "mlflow.entities"):
        monkeypatch.setitem(sys.modules, module, None)  # as if mlflow were not installed
    assert main([*argv, "--track", "mlflow"]) == 2
    assert "pip install 'mnist-bench[mlflow]'" in capsys.readouterr().err
    assert not list(results.glob("runs/*/record.json")), "nothing was trained"


def test_tensorboard_replaces_a_runs_event_file_when_it_is_logged_again(tmp_path, sgd_model):
    results = tmp_path / "results"
    assert main([*SGD, "--results-dir", str(results), "--no-report"]) == 0
    record = load_records(results)[0]
    with open_trackers(["tensorboard"], results, say=lambda line: None) as hook:
        hook(record)
        hook(record)
    folder = results / "tensorboard" / record.run_id
    (event_file,) = folder.glob("events.out.tfevents.*")
    events = EventAccumulator(str(folder))
    events.Reload()
    assert [e.step for e in events.Tensors("test/accuracy")] == [1]
