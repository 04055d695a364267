"""``--models-from FILE.py``: a user's model file, loaded by path, fingerprinted, run anywhere."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

from bench.cli import main
from bench.models.registry import get_model, list_models
from bench.models.user_files import load_model_file, model_file, unload_model_files
from bench.results.store.files import load_records
from bench.run.fingerprint import model_fingerprint

KNN_FILE = '''
from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


def neighbours(config):
    return int(config["k"])


@register_model(family="sklearn", preprocess=flatten_and_scale, config={"k": 3})
def file_knn(config, input_shape, num_classes):
    """k-nearest neighbours from a user's file."""
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(n_neighbors=neighbours(config))
'''

KERAS_FILE = '''
from bench.models.preprocess import flatten_and_scale
from bench.models.registry import register_model


def adam(config, steps_per_epoch):
    import keras

    return keras.optimizers.Adam(config["learning_rate"])


@register_model(
    family="keras",
    preprocess=flatten_and_scale,
    config={"epochs": 3, "batch_size": 64, "learning_rate": 0.01},
    optimizer=adam,
)
def file_dense(config, input_shape, num_classes):
    """One dense softmax layer from a user's file."""
    import keras

    return keras.Sequential(
        [keras.Input(input_shape), keras.layers.Dense(num_classes, activation="softmax")]
    )
'''


@pytest.fixture(autouse=True)
def _forget_model_files():
    yield
    unload_model_files()


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_list_and_run_a_model_from_a_file(tmp_path, bench_home, capsys):
    path = write(tmp_path, "my_models.py", KNN_FILE)
    assert main(["list", "--models-from", str(path), "file_*"]) == 0
    listed = capsys.readouterr().out
    assert "file_knn" in listed and "k-nearest neighbours from a user's file." in listed
    results = tmp_path / "results"
    argv = ["run", "--models-from", str(path), "--model", "file_knn", "--dataset", "digits"]
    assert main([*argv, "--results-dir", str(results), "--no-report"]) == 0
    (record,) = load_records(results)
    assert record.ok and record.accuracy > 0.95  # 3-NN on digits: about 0.98
    assert record.run.models_from == str(path.resolve())
    assert record.code["model_fingerprint"] == record.run.code_fingerprint
    saved = json.loads(next(results.glob("runs/*/record.json")).read_text())
    assert saved["run"]["models_from"] == str(path.resolve())


def test_the_fingerprint_follows_the_files_code_not_its_folder(tmp_path):
    first = write(tmp_path / "a", "my_models.py", KNN_FILE)
    load_model_file(first)
    original = model_fingerprint(get_model("file_knn"))
    assert model_file("file_knn") == str(first.resolve())
    assert load_model_file(first) == ["file_knn"], "loading the same text again changes nothing"

    unload_model_files()
    moved = write(tmp_path / "b", "my_models.py", KNN_FILE)
    load_model_file(moved)
    assert model_fingerprint(get_model("file_knn")) == original, "same code, same fingerprint"

    # Editing a helper the builder calls changes the fingerprint, and reloading replaces it.
    write(tmp_path / "b", "my_models.py", KNN_FILE.replace('int(config["k"])', 'config["k"]'))
    assert load_model_file(moved) == ["file_knn"]
    assert model_fingerprint(get_model("file_knn")) != original


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "the file does not exist"),
        ("def broken(:\n    pass\n", "syntax error on line 1"),
        ("x = 1\n", "the file registers no model; decorate a builder function"),
        ("import os\nimport no_such_module_here\n", "importing it failed on line 2: "),
        (KNN_FILE.replace("def file_knn", "def logreg"), "'logreg' is registered twice"),
    ],
)
def test_a_bad_model_file_is_a_clear_command_line_error(tmp_path, capsys, text, message):
    path = tmp_path / "models.py"
    if text is not None:
        path.write_text(text)
    with pytest.raises(SystemExit) as caught:  # a command-line error, before any handler runs
        main(["list", "--models-from", str(path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"--models-from {path}" in err and message in err
    assert "Traceback" not in err
    assert "logreg" in list_models(), "the built-in models are untouched"


@pytest.mark.slow
@pytest.mark.skipif(not importlib.util.find_spec("jax"), reason="needs jax (pip install '.[jax]')")
def test_a_backend_worker_loads_the_users_file(tmp_path, bench_home, capsys):
    """A Keras model from a file, on another backend: the worker process imports the file."""
    path = write(tmp_path, "dense_models.py", KERAS_FILE)
    results = tmp_path / "results"
    argv = ["run", "--models-from", str(path), "--model", "file_dense", "--dataset", "digits"]
    code = main([*argv, "--backend", "jax", "--results-dir", str(results), "--no-report"])
    out = capsys.readouterr().out
    assert code == 0, out
    (record,) = load_records(results)
    assert record.ok and record.label == "file_dense@jax"
    assert record.accuracy > 0.85  # a softmax layer on digits after 3 epochs: about 0.93
    assert record.environment["framework"]["backend"] == "jax"
    assert record.code["model_fingerprint"] == record.run.code_fingerprint, "same code there"


def readme_pytorch_example() -> str:
    """The code block under "A PyTorch model in a few lines" (docs/extending.md, linked from
    the README)."""
    readme = (Path(__file__).resolve().parents[1] / "docs" / "extending.md").read_text()
    section = readme.split("### A PyTorch model in a few lines", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(not importlib.util.find_spec("torch"), reason="needs torch (see README)")
def test_the_readmes_pytorch_example_trains_from_a_file(tmp_path, bench_home):
    from bench.run.selection import build_runs
    from bench.run.trainer import execute_run

    path = write(tmp_path, "my_models.py", readme_pytorch_example())
    assert load_model_file(path) == ["tiny_cnn"]
    record = execute_run(build_runs(["tiny_cnn"], ["digits"], [0])[0])
    assert record.ok, record.error
    assert record.accuracy > 0.8, "five epochs of SGD on digits: far above chance (0.1)"
    assert record.run.config["device"] == "cpu"
    # Conv 16 * 9 + 16, conv 32 * 16 * 9 + 32; 8x8 digits leave 32 features (1x1) for the
    # lazy linear layer: 32 * 10 + 10.
    assert record.parameters == 160 + 4640 + 330
    assert record.flops["uncounted_layers"] == []


def test_the_fingerprint_leaves_out_the_registration_but_follows_the_code(tmp_path):
    """A note in the decorator changes nothing a run computes; a helper's body does."""
    fingerprints = {}
    variants = {
        "original": KNN_FILE,
        "new note": KNN_FILE.replace('config={"k": 3})', 'config={"k": 3}, tuning="by hand")'),
        "new helper": KNN_FILE.replace('return int(config["k"])', 'return int(config["k"]) + 0'),
    }
    for name, text in variants.items():
        load_model_file(write(tmp_path / name.replace(" ", "_"), "my_models.py", text))
        fingerprints[name] = model_fingerprint(get_model("file_knn"))
        unload_model_files()
    assert fingerprints["new note"] == fingerprints["original"]
    assert fingerprints["new helper"] != fingerprints["original"]
