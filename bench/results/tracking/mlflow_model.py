"""A kept model in MLflow: the ONNX file of ``--save-model`` logged in MLflow's onnx flavour.

The flavour is MLflow's own (``mlflow.onnx.save_model`` writes the ``MLmodel`` file), logged
under the artifact path ``model`` of the bench run's MLflow run, so that
``mlflow.pyfunc.load_model("runs:/<mlflow-run-id>/model")`` serves it: it takes a float32
array of preprocessed images (the shape in the model's signature) and returns the
probabilities under the ONNX output's name. The file is read through the store, its SHA-256
checked first. ONNX is the one flavour every family here exports to; a model with no ONNX
file (a conversion that failed, Keras on jax) is logged without a model, and the tag
``bench.model_flavour`` says why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.results.store.model_files import read_model_file
from bench.results.store.record import RunRecord

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
    import numpy as np
    import onnx
    from mlflow.models.signature import ModelSignature
    from mlflow.onnx import save_model
    from mlflow.types.schema import Schema, TensorSpec

    content = read_model_file(results_dir, record, onnx_entry["file"])
    shape = (-1, *saved["input_shape"])
    signature = ModelSignature(inputs=Schema([TensorSpec(np.dtype("float32"), shape)]))
    options = (onnx_entry.get("onnxruntime") or {}).get("session_options") or {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ARTIFACT_PATH
        save_model(
            onnx.load_model_from_string(content),
            str(path),
            signature=signature,
            pip_requirements=["onnx", "onnxruntime"],
            save_as_external_data=False,
            onnx_session_options={
                "intra_op_num_threads": options.get("intra_op_num_threads", 0),
                "inter_op_num_threads": options.get("inter_op_num_threads", 0),
            },
        )
        client.log_artifacts(mlflow_id, str(path), artifact_path=ARTIFACT_PATH)
    return True
