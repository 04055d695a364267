"""A kept model in MLflow: the ONNX file of ``--save-model`` in MLflow's onnx flavour, and
the native model in its framework's own flavour (keras, pytorch or sklearn).

The flavour is MLflow's own (``mlflow.onnx.save_model`` writes the ``MLmodel`` file), logged
under the artifact path ``model`` of the bench run's MLflow run, so that
``mlflow.pyfunc.load_model("runs:/<mlflow-run-id>/model")`` serves it: it takes a float32
array of preprocessed images (the shape in the model's signature) and returns the
probabilities under the ONNX output's name. The file is read through the store, its SHA-256
checked first. ONNX is the one flavour every family here exports to; a model with no ONNX
file (a conversion that failed, Keras on jax) is logged without a model, and the tag
``bench.model_flavour`` says why.

The native model goes under ``native_model`` in MLflow's keras, pytorch or sklearn flavour
(sklearn in skops's format, not pickle), so that the frameworks' own loaders
(``mlflow.keras.load_model``, ...) and ``mlflow.pyfunc.load_model`` serve it too, with the
same float32 input signature and probabilities out. The tracker cannot rebuild a model itself
(the results layer knows no model code): the command hands it a loader (``bench.load_model``'s
``native``); the tag ``bench.native_flavour`` names the flavour, or why there is none.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.results.store.model_files import read_model_file
from bench.results.store.record import RunRecord
from bench.results.tracking import NativeLoader

ARTIFACT_PATH = "model"


def model_tags(record: RunRecord) -> dict[str, str]:
    """``bench.model_flavour`` (and ``bench.model_artifact``) for a record that kept a model."""
    onnx = (record.saved_model or {}).get("onnx")
    if onnx is None:
        return {}
    if not onnx.get("converted"):
        return {"bench.model_flavour": f"none: {onnx.get('reason', 'no ONNX export')}"[:5000]}
    return {"bench.model_flavour": "onnx", "bench.model_artifact": ARTIFACT_PATH}


def log_onnx_model(client: Any, mlflow_id: str, record: RunRecord, results_dir: Path) -> bool:
    """Log the record's ONNX file in the onnx flavour; False when it has none."""
    saved = record.saved_model or {}
    onnx_entry = saved.get("onnx") or {}
    if not onnx_entry.get("converted"):
        return False
    import onnx
    from mlflow.onnx import save_model

    content = read_model_file(results_dir, record, onnx_entry["file"])
    options = (onnx_entry.get("onnxruntime") or {}).get("session_options") or {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ARTIFACT_PATH
        save_model(
            onnx.load_model_from_string(content),
            str(path),
            signature=_float_signature(saved["input_shape"]),
            pip_requirements=["onnx", "onnxruntime"],
            save_as_external_data=False,
            onnx_session_options={
                "intra_op_num_threads": options.get("intra_op_num_threads", 0),
                "inter_op_num_threads": options.get("inter_op_num_threads", 0),
            },
        )
        client.log_artifacts(mlflow_id, str(path), artifact_path=ARTIFACT_PATH)
    return True


NATIVE_ARTIFACT_PATH = "native_model"
NATIVE_FLAVOURS = {"keras": "keras", "torch": "pytorch", "skops": "sklearn"}
"""The MLflow flavour of each native file format ``--save-model`` writes."""


def log_native_model(
    client: Any, mlflow_id: str, record: RunRecord, results_dir: Path, load_native: NativeLoader
) -> dict[str, str]:
    """Log the record's model in its framework's own MLflow flavour under ``native_model``.

    ``load_native`` rebuilds the framework object from the kept files (their hashes checked).
    Returns the tags that say what was logged: ``bench.native_flavour`` names the flavour, or
    why there is none (no kept model, no flavour for its format, a model that no longer loads).
    """
    native_entry = (record.saved_model or {}).get("native")
    if native_entry is None:
        return {}
    flavour = NATIVE_FLAVOURS.get(native_entry.get("format", ""))
    if flavour is None:
        return {"bench.native_flavour": f"none: no MLflow flavour for {native_entry['format']}"}
    try:
        native = load_native(record, results_dir)
    except Exception as error:  # a model that no longer loads is named, not fatal
        return {"bench.native_flavour": f"none: {type(error).__name__}: {error}"[:5000]}
    input_shape = (record.saved_model or {})["input_shape"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / NATIVE_ARTIFACT_PATH
        SAVERS[flavour](native, path, input_shape)
        client.log_artifacts(mlflow_id, str(path), artifact_path=NATIVE_ARTIFACT_PATH)
    return {"bench.native_flavour": flavour, "bench.native_artifact": NATIVE_ARTIFACT_PATH}


def _float_signature(input_shape: list[int]) -> Any:
    """A float32 tensor signature for a batch of preprocessed inputs of ``input_shape``."""
    import numpy as np
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import Schema, TensorSpec

    return ModelSignature(inputs=Schema([TensorSpec(np.dtype("float32"), (-1, *input_shape))]))


def _save_keras(model: Any, path: Path, input_shape: list[int]) -> None:
    """A Keras model in MLflow's keras flavour (a ``.keras`` file): pyfunc returns what the
    model outputs, the probabilities."""
    import keras
    from mlflow.keras import save_model

    requirement = f"keras=={keras.__version__}"
    signature = _float_signature(input_shape)
    save_model(model, str(path), signature=signature, pip_requirements=[requirement])


def _save_pytorch(model: Any, path: Path, input_shape: list[int]) -> None:
    """A PyTorch module in MLflow's pytorch flavour, a softmax appended so that pyfunc
    returns probabilities as the other flavours do; MLflow's default ``pt2`` format (a
    ``torch.export`` program, traced on a two-image example, batch size free) needs no
    pickle and no model code where it is loaded."""
    import numpy as np
    import torch
    from mlflow.pytorch import save_model

    predictor = torch.nn.Sequential(model.cpu(), torch.nn.Softmax(dim=1)).eval()
    requirement = f"torch=={torch.__version__.split('+')[0]}"
    save_model(
        predictor,
        str(path),
        signature=_float_signature(input_shape),
        input_example=np.zeros((2, *input_shape), dtype=np.float32),
        pip_requirements=[requirement],
    )


def _save_sklearn(estimator: Any, path: Path, input_shape: list[int]) -> None:
    """An estimator in MLflow's sklearn flavour, in skops's format (no pickle), trusting the
    types the kept file was already checked for; pyfunc calls ``predict_proba``."""
    import sklearn
    import skops.io
    from mlflow.sklearn import save_model

    save_model(
        estimator,
        str(path),
        serialization_format="skops",
        skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(estimator)),
        signature=_float_signature(input_shape),
        pyfunc_predict_fn="predict_proba",
        pip_requirements=[f"scikit-learn=={sklearn.__version__}", "skops"],
    )


SAVERS: dict[str, Callable[[Any, Path, list[int]], None]] = {
    "keras": _save_keras,
    "pytorch": _save_pytorch,
    "sklearn": _save_sklearn,
}
