"""--save-model, bench.load_model, bench predict and bench export-model on real digits runs:
one Keras (TensorFlow), one PyTorch and two scikit-learn models, their files checked against
their hashes, their ONNX exports against the native models."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="pip install 'mnist-bench[onnx]'")
pytest.importorskip("skl2onnx", reason="pip install 'mnist-bench[onnx]'")
pytest.importorskip("skops", reason="pip install 'mnist-bench[onnx]'")

import bench  # noqa: E402
from bench.cli import main  # noqa: E402
from bench.core.errors import BenchError  # noqa: E402
from bench.data import load_dataset  # noqa: E402
from bench.data.idx import encode_idx  # noqa: E402
from bench.results.report.deploy import deploy_frame, deploy_markdown  # noqa: E402
from bench.results.store.files import load_records  # noqa: E402

KERAS, SKLEARN, SVM = "mlp:quick", "logreg:quick", "svm_rbf_pca"
TORCH = "torch_fast"
HAS_TORCH = __import__("importlib").util.find_spec("torch") is not None


@pytest.fixture(scope="module")
def kept(tmp_path_factory) -> Path:
    """One sweep on digits with --save-model: Keras, scikit-learn (one that converts to ONNX,
    one that does not) and, where installed, PyTorch."""
    results = tmp_path_factory.mktemp("kept") / "results"
    models = [KERAS, SKLEARN, SVM] + ([TORCH] if HAS_TORCH else [])
    argv = ["run", "--model", ",".join(models), "--dataset", "digits", "--save-model"]
    argv += ["--set", "mlp.epochs=3", "--set", "svm_rbf_pca.pca_components=20"]
    if HAS_TORCH:
        argv += ["--set", "torch_fast.epochs=2"]
    assert main([*argv, "--results-dir", str(results), "--no-report"]) == 0
    return results


def record_of(results: Path, label: str):
    (record,) = [r for r in load_records(results) if r.label == label]
    return record


def converting_labels() -> list[str]:
    return [KERAS, SKLEARN] + ([TORCH] if HAS_TORCH else [])


@pytest.mark.slow
@pytest.mark.parametrize("label", converting_labels())
def test_kept_files_match_their_hashes_and_load_back_predicting_as_the_run(kept, label):
    record = record_of(kept, label)
    saved = record.saved_model
    folder = kept / "runs" / record.run_id
    expected = {"keras": {"model.keras"}, "skops": {"model.skops"}}.get(
        saved["native"]["format"], {"model.pt", "model.pt2"}
    )
    assert set(saved["native"]["files"]) == expected
    assert set(saved["files"]) == expected | {"model.onnx"}
    for name, entry in saved["files"].items():
        content = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    if label == KERAS:  # weights only: Adam's two slots per weight would triple the file
        sizes = {name: entry["bytes"] for name, entry in saved["files"].items()}
        assert sizes["model.keras"] < 1.2 * sizes["model.onnx"], sizes

    model = bench.load_model(record.run_id, kept)
    images = load_dataset("digits").x_test
    assert model.image_shape == (8, 8) and model.class_names[:3] == ["0", "1", "2"]
    np.testing.assert_array_equal(model.predict(images), record.predictions)
    proba = model.predict_proba(images[:1][0])  # one (H, W) image is a batch of one
    assert proba.shape == (1, 10) and proba.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("label", converting_labels())
def test_onnx_export_agrees_with_the_native_model_and_is_timed_beside_it(kept, label):
    record = record_of(kept, label)
    onnx = record.saved_model["onnx"]
    assert onnx["converted"], onnx.get("reason")
    check = onnx["check"]
    assert check["n"] == record.n_test == 450
    assert check["passed"] and check["argmax_agreement"] >= 0.999
    assert 0 <= check["max_abs_probability_diff"] < 1e-4

    # the file itself, run again here, gives the run's test predictions
    import onnxruntime as ort

    content = (kept / "runs" / record.run_id / "model.onnx").read_bytes()
    session = ort.InferenceSession(content, providers=["CPUExecutionProvider"])
    spec_input = bench.load_model(record.run_id, kept).spec.preprocess
    x = spec_input(load_dataset("digits").x_test)
    (proba,) = session.run([onnx["output"]], {session.get_inputs()[0].name: x})
    assert np.mean(proba.argmax(axis=1) == np.asarray(record.predictions)) >= 0.999

    ort_speed, native = onnx["onnxruntime"], onnx["native"]
    options = ort_speed["session_options"]
    assert options["graph_optimization_level"] == "ORT_ENABLE_ALL"
    assert options["intra_op_num_threads"] >= 1 and options["inter_op_num_threads"] == 1
    assert native["samples_per_s"] == record.inference_samples_per_s
    assert native["latency_p50_ms"] == record.latency_p50_ms
    assert ort_speed["inference"]["samples"] == 450 and ort_speed["latency"]["n"] >= 50
    throughput = ort_speed["inference"]["samples_per_s"] / native["samples_per_s"]
    assert onnx["ratio"]["throughput"] == pytest.approx(throughput)
    assert onnx["ratio"]["latency_p50"] == pytest.approx(
        ort_speed["latency"]["median_ms"] / native["latency_p50_ms"]
    )
    assert "save_model" in record.timings["phases"]


@pytest.mark.slow
def test_a_model_without_an_onnx_converter_says_why_and_still_loads(kept):
    record = record_of(kept, SVM)
    assert record.ok
    onnx = record.saved_model["onnx"]
    assert onnx["converted"] is False
    assert "DecisionSoftmax" in onnx["reason"] and "skl2onnx" in onnx["reason"]
    assert set(record.saved_model["files"]) == {"model.skops"}
    model = bench.load_model(record.run_id, kept)
    np.testing.assert_array_equal(model.predict(load_dataset("digits").x_test), record.predictions)


@pytest.mark.slow
def test_deploy_frame_has_a_native_and_an_onnx_runtime_row_per_kept_model(kept):
    records = load_records(kept)
    frame = deploy_frame(records)
    assert len(frame) == 2 * len(records)
    logreg = frame[frame["label"] == SKLEARN]
    native, ort_row = logreg.iloc[0], logreg.iloc[1]
    record = record_of(kept, SKLEARN)
    assert native["runtime"].startswith("scikit-learn ")
    assert native["samples_per_s"] == record.inference_samples_per_s
    assert native["file_bytes"] == record.saved_model["files"]["model.skops"]["bytes"]
    onnx = record.saved_model["onnx"]
    assert ort_row["runtime"].startswith("onnxruntime ")
    assert ort_row["throughput_ratio"] == onnx["ratio"]["throughput"]
    assert ort_row["latency_p50_ms"] == onnx["onnxruntime"]["latency"]["median_ms"]
    assert ort_row["file_bytes"] == record.saved_model["files"]["model.onnx"]["bytes"]
    svm_row = frame[(frame["label"] == SVM)].iloc[1]
    assert svm_row["note"].startswith("not converted") and pd_missing(svm_row["samples_per_s"])

    text = "\n".join(deploy_markdown(frame))
    assert "## Deploy" in text and "| logreg:quick" in text and "onnxruntime" in text
    assert "svm_rbf_pca (digits) has no ONNX file: skl2onnx cannot convert" in text
    assert deploy_markdown(deploy_frame([])) == []


def pd_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


@pytest.mark.slow
def test_predict_reads_npy_idx_and_pictures_and_prints_the_models_classes(kept, tmp_path, capsys):
    from PIL import Image

    record = record_of(kept, SKLEARN)
    images = load_dataset("digits").x_test[:4]
    np.save(tmp_path / "three.npy", images[:3])
    (tmp_path / "one-idx3-ubyte.gz").write_bytes(gzip.compress(encode_idx(images[3:4])))
    Image.fromarray(images[0]).save(tmp_path / "first.png")
    files = [tmp_path / "three.npy", tmp_path / "one-idx3-ubyte.gz", tmp_path / "first.png"]
    output = tmp_path / "out.csv"
    argv = ["predict", record.run_id, *map(str, files), "--results-dir", str(kept)]
    assert main([*argv, "--output", str(output)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "\t" in line]
    expected = [*record.predictions[:4], record.predictions[0]]
    assert [int(line.split("\t")[1].split()[0]) for line in lines] == expected
    assert lines[3].startswith(f"{files[1]}[0]")
    rows = output.read_text().splitlines()
    assert rows[0].startswith("image,predicted,0,1") and len(rows) == 6


@pytest.mark.slow
def test_a_model_file_changed_after_the_run_is_refused(kept, tmp_path, capsys):
    copy = tmp_path / "results"
    shutil.copytree(kept, copy)
    record = record_of(copy, SKLEARN)
    path = copy / "runs" / record.run_id / "model.skops"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(BenchError, match="does not match the SHA-256 in its record"):
        bench.load_model(record.run_id, copy)
    np.save(tmp_path / "x.npy", load_dataset("digits").x_test[:2])
    argv = ["predict", record.run_id, str(tmp_path / "x.npy"), "--results-dir", str(copy)]
    assert main(argv) == 2
    assert "changed after the run" in capsys.readouterr().err


@pytest.mark.slow
def test_export_model_redoes_the_onnx_export_in_its_own_process_and_rewrites_the_record(
    kept, tmp_path, capsys
):
    copy = tmp_path / "results"
    shutil.copytree(kept, copy)
    record = record_of(copy, SKLEARN)
    onnx_path = copy / "runs" / record.run_id / "model.onnx"
    onnx_path.unlink()
    assert main(["export-model", record.run_id, "--results-dir", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "same class as the native model on 100.00% of 450 test images, passed" in out
    fresh = record_of(copy, SKLEARN)
    onnx = fresh.saved_model["onnx"]
    assert onnx["made_by"].startswith("bench export-model") and onnx["check"]["passed"]
    content = onnx_path.read_bytes()
    assert fresh.saved_model["files"]["model.onnx"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert fresh.predictions == record.predictions and fresh.probabilities == record.probabilities
    # the model that does not convert: exit 1, the reason printed, no ONNX file left
    svm = record_of(copy, SVM)
    assert main(["export-model", svm.run_id, "--results-dir", str(copy)]) == 1
    assert "no ONNX export: skl2onnx cannot convert" in capsys.readouterr().out


def test_a_run_without_a_kept_model_and_an_unknown_run_are_clear_errors(tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["run", "--model", "logreg:quick", "--dataset", "digits", "--no-report"]
    assert main([*argv, "--results-dir", str(results)]) == 0
    (record,) = load_records(results)
    assert record.saved_model is None
    with pytest.raises(BenchError, match="kept no model; rerun it with --save-model"):
        bench.load_model(record.run_id, results)
    with pytest.raises(BenchError, match="Did you mean: " + record.run_id):
        bench.load_model(record.run_id[:-1], results)
    assert main(["export-model", "nope", "--results-dir", str(results)]) == 2
    assert "no run 'nope'" in capsys.readouterr().err

    # --resume with --save-model reruns a done run that kept no model
    assert main([*argv, "--results-dir", str(results), "--resume", "--save-model"]) == 0
    assert "no saved model" in capsys.readouterr().out
    (record,) = load_records(results)
    assert record.saved_model["onnx"]["check"]["passed"]


def test_skops_files_naming_foreign_types_are_refused():
    import skops.io

    from architectures.logreg import logreg
    from bench.models.families._sklearn_files import SKOPS_FILE, load_sklearn

    content = skops.io.dumps({"estimator": Foreign()})
    with pytest.raises(ValueError, match="test_saved_models.Foreign; not loaded"):
        load_sklearn({SKOPS_FILE: content}, logreg)


class Foreign:
    """A type from outside scikit-learn, NumPy, SciPy and the model's module."""


def test_image_files_of_the_wrong_shape_values_or_format_are_named(tmp_path):
    from bench.data.user_images import read_images

    np.save(tmp_path / "big.npy", np.zeros((2, 28, 28), dtype=np.uint8))
    np.save(tmp_path / "scaled.npy", np.full((8, 8), 0.5))
    np.save(tmp_path / "ok.npy", np.full((8, 8), 7.0))
    (tmp_path / "notes.txt").write_text("seven")
    with pytest.raises(
        BenchError, match="big.npy: images of 28x28 pixels, but the model takes 8x8"
    ):
        read_images([tmp_path / "big.npy"], (8, 8))
    with pytest.raises(BenchError, match="whole numbers 0-255"):
        read_images([tmp_path / "scaled.npy"], (8, 8))
    with pytest.raises(BenchError, match="unknown image format"):
        read_images([tmp_path / "notes.txt"], (8, 8))
    with pytest.raises(BenchError, match="no image file"):
        read_images([tmp_path / "absent.png"], (8, 8))
    images, names = read_images([tmp_path / "ok.npy"], (8, 8))
    assert images.dtype == np.uint8 and images.shape == (1, 8, 8) and int(images.max()) == 7
    assert names == [f"{tmp_path / 'ok.npy'}[0]"]


def test_track_mlflow_logs_the_kept_model_in_the_onnx_flavour_pyfunc_serves(tmp_path, monkeypatch):
    pytest.importorskip("mlflow", reason="pip install 'mnist-bench[mlflow]'")
    import mlflow
    import mlflow.pyfunc
    from mlflow.tracking import MlflowClient

    results = tmp_path / "results"
    argv = ["run", "--model", SKLEARN, "--dataset", "digits", "--save-model", "--no-report"]
    assert main([*argv, "--track", "mlflow", "--results-dir", str(results)]) == 0
    (record,) = load_records(results)
    uri = f"sqlite:///{(results / 'mlflow' / 'mlflow.db').resolve()}"
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("mnist-bench").experiment_id])
    assert run.data.tags["bench.model_flavour"] == "onnx"
    # through the environment, undone after the test: mlflow.set_tracking_uri would pin the
    # URI for every later test of the session, even "restored" to the value it read
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    served = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert served.metadata.flavors.keys() >= {"onnx", "python_function"}
    x = bench.load_model(record.run_id, results).spec.preprocess(load_dataset("digits").x_test)
    output = served.predict(x)
    proba = output["probabilities"] if isinstance(output, dict) else np.asarray(output)
    np.testing.assert_array_equal(np.asarray(proba).argmax(axis=1), record.predictions)


@pytest.mark.slow
def test_export_to_mlflow_logs_every_kept_model_in_its_frameworks_flavour_pyfunc_serves(
    kept, tmp_path, monkeypatch
):
    """Keras, PyTorch and scikit-learn (svm_rbf_pca too, which has no ONNX export): each
    record's native_model artifact is served by pyfunc with the run's predictions."""
    pytest.importorskip("mlflow", reason="pip install 'mnist-bench[mlflow]'")
    import mlflow.pyfunc
    from mlflow.tracking import MlflowClient

    results = tmp_path / "results"
    shutil.copytree(kept, results)
    assert main(["export", "--to", "mlflow", "--results-dir", str(results)]) == 0
    uri = f"sqlite:///{(results / 'mlflow' / 'mlflow.db').resolve()}"
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("mnist-bench").experiment_id])
    by_label = {run.data.tags["bench.run_id"]: run for run in runs}
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    expected = {KERAS: "keras", SKLEARN: "sklearn", SVM: "sklearn", TORCH: "pytorch"}
    x_test = load_dataset("digits").x_test
    for label in [KERAS, SKLEARN, SVM] + ([TORCH] if HAS_TORCH else []):
        record = record_of(results, label)
        run = by_label[record.run_id]
        assert run.data.tags["bench.native_flavour"] == expected[label], label
        served = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/native_model")
        assert expected[label] in served.metadata.flavors, label
        x = bench.load_model(record.run_id, results).spec.preprocess(x_test)
        proba = np.asarray(served.predict(x.astype(np.float32)))
        assert proba.shape == (len(x_test), 10), label
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-4, err_msg=label)
        np.testing.assert_array_equal(proba.argmax(axis=1), record.predictions, err_msg=label)
    svm_tags = by_label[record_of(results, SVM).run_id].data.tags
    assert svm_tags["bench.model_flavour"].startswith("none: skl2onnx cannot convert")


@pytest.mark.slow
def test_a_keras_model_with_a_custom_activation_round_trips_through_its_keras_file():
    """LeNet-5 names its own scaled tanh: the .keras file finds it in the model's module."""
    from bench.models.family import make_adapter
    from bench.models.registry import get_model

    spec = get_model("lenet5")
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    x = spec.preprocess(images)
    trained = make_adapter(spec, dict(spec.config), tuple(x.shape[1:]), 10)
    saved = trained.save_model()
    assert saved.notes == [] and '"scaled_tanh"' in _keras_config(saved.files["model.keras"])
    fresh = make_adapter(spec, dict(spec.config), tuple(x.shape[1:]), 10)
    assert not np.allclose(fresh.predict_proba(x), trained.predict_proba(x))
    fresh.restore_model(saved.files)
    np.testing.assert_allclose(fresh.predict_proba(x), trained.predict_proba(x), atol=1e-6)


def _keras_config(content: bytes) -> str:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("config.json").decode()
