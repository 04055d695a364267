"""Saving, loading and ONNX export of Keras models (``--save-model``).

- Native: Keras's own ``.keras`` archive (architecture, weights; no optimizer state), loaded
  with ``keras.saving.load_model(path, safe_mode=True)``, which refuses to rebuild lambdas.
  Functions a model's layers name (an activation such as LeNet-5's ``scaled_tanh``) are
  looked up in the module that registered the model. A ``.keras`` file is the same on every
  backend: a model trained on jax or torch loads into a TensorFlow process, and back.
- ONNX: Keras's own ``model.export(path, format="onnx")`` (tf2onnx's ``from_keras`` fails on
  Keras 3 models). On TensorFlow it goes through tf2onnx's graph converter, on torch through
  ``torch.onnx``; on jax Keras needs the ``jax2onnx`` package, which this project does not
  install (it brings flax, orbax and a dozen more), so a jax-trained model records why it has
  no ONNX file here: load its ``.keras`` in a TensorFlow process
  (``bench export-model RUN_ID``) to convert it there.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import keras

from bench.models.portable import NotConvertible, OnnxExport, SavedFiles

KERAS_FILE = "model.keras"


def save_keras(model: Any, builder: Any) -> SavedFiles:
    """The model as a ``.keras`` archive, without optimizer state (Keras 3 saves a compiled
    model's optimizer variables, twice the weights for Adam, and ``clone_model`` compiles its
    clone too): an uncompiled copy rebuilt from the model's config, holding the same weights,
    is saved instead, where the config rebuilds it."""
    notes = []
    try:
        with keras.saving.custom_object_scope(module_objects(builder)):
            clone = type(model).from_config(model.get_config())
        clone.set_weights(model.get_weights())
    except Exception as error:  # a subclassed model without a config keeps its optimizer
        clone = model
        notes.append(f"saved with its optimizer state (rebuilding from its config failed: {error})")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / KERAS_FILE
        clone.save(path)
        content = path.read_bytes()
    return SavedFiles(
        format="keras",
        files={KERAS_FILE: content},
        loads_with="keras.saving.load_model(path, safe_mode=True)",
        notes=notes,
    )


def module_objects(builder: Any) -> dict[str, Any]:
    """Public functions and classes of the module that registered a model, for Keras to find
    the custom functions its layers name."""
    module = sys.modules.get(getattr(builder, "__module__", ""), None)
    if module is None:
        return {}
    return {
        name: value
        for name, value in vars(module).items()
        if callable(value) and not name.startswith("_")
    }


def load_keras(files: dict[str, bytes], builder: Any) -> Any:
    """The model of a ``.keras`` archive (``safe_mode=True``), on this process's backend."""
    content = files[KERAS_FILE]
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise ValueError(f"{KERAS_FILE} is not a Keras archive")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / KERAS_FILE
        path.write_bytes(content)
        return keras.saving.load_model(
            path, custom_objects=module_objects(builder), compile=False, safe_mode=True
        )


def export_keras_onnx(model: Any, backend: str) -> OnnxExport:
    """The model as ONNX through ``model.export(format="onnx")`` on this process's backend."""
    if backend == "jax":
        import importlib.util

        if importlib.util.find_spec("jax2onnx") is None:
            raise NotConvertible(
                "Keras's ONNX export on the jax backend needs the jax2onnx package, not "
                "installed here; the .keras file loads on TensorFlow: "
                "`python -m bench export-model RUN_ID` converts it there"
            )
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.onnx")
        quiet = io.StringIO()
        try:
            with redirect_stdout(quiet), redirect_stderr(quiet):
                model.export(path, format="onnx", verbose=False)
        except Exception as error:  # a converter's refusal, in its own words
            raise NotConvertible(
                f"Keras's model.export(format='onnx') failed on the {backend} backend: "
                f"{type(error).__name__}: {str(error)[:300]}"
            ) from None
        content = Path(path).read_bytes()
    exporter = {"tensorflow": "tf2onnx (graph)", "torch": "torch.onnx"}.get(backend, backend)
    return OnnxExport(content, None, f"keras {keras.__version__} model.export via {exporter}")
