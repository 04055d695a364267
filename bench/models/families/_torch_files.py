"""Saving, loading and ONNX export of PyTorch models (``--save-model``).

- ``model.pt``: the ``state_dict`` of the weights that predict (the moving average where the
  config keeps one), loaded with ``torch.load(..., weights_only=True)`` (tensors only, no
  pickled code) into the module the registered builder makes from the run's config.
- ``model.pt2``: a ``torch.export`` program of that module followed by a softmax, so it
  needs no model code: ``torch.export.load(path).module()(images)`` gives probabilities
  for a batch of any size.
- ``model.onnx``: the same exported program through ``torch.onnx.export(..., dynamo=True)``
  (the torch.export-based exporter, which needs ``onnxscript``): images in, probabilities
  out, batch size free. A model trained with ``precision="mixed_bfloat16"`` is exported in
  float32 (autocast is a runtime choice, not part of the weights); the agreement check with
  the native model says what that costs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from bench.models.portable import NotConvertible, OnnxExport, SavedFiles

STATE_FILE = "model.pt"
PROGRAM_FILE = "model.pt2"


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    """Keep the exporter's chatter (operators of packages not installed, deprecations of
    internals) off the terminal."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def probabilities_module(model: torch.nn.Module) -> torch.nn.Module:
    """A CPU copy of ``model`` in eval mode with a softmax over its logits."""
    return torch.nn.Sequential(copy.deepcopy(model).cpu().eval(), torch.nn.Softmax(dim=1)).eval()


def export_program(model: torch.nn.Module, sample: Any) -> torch.export.ExportedProgram:
    """``torch.export`` of ``model`` with a softmax, batch dimension left free."""
    images = torch.as_tensor(sample[:2] if len(sample) >= 2 else sample.repeat(2, 0)).float()
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    with torch.no_grad(), quiet_exporter():
        return torch.export.export(
            probabilities_module(model), (images,), dynamic_shapes=({0: batch},)
        )


def save_torch(model: torch.nn.Module, sample: Any) -> SavedFiles:
    """The state_dict and, where ``torch.export`` traces the model, its exported program."""
    state = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, state)
    files = {STATE_FILE: state.getvalue()}
    notes = []
    try:
        program = io.BytesIO()
        with quiet_exporter():
            torch.export.save(export_program(model, sample), program)
        files[PROGRAM_FILE] = program.getvalue()
    except Exception as error:  # a model torch.export cannot trace keeps its state_dict
        notes.append(f"no {PROGRAM_FILE}: torch.export failed ({type(error).__name__}: {error})")
    return SavedFiles(
        format="torch",
        files=files,
        loads_with=(
            f"{STATE_FILE}: model.load_state_dict(torch.load(path, weights_only=True)) on the "
            f"registered builder's module; {PROGRAM_FILE}: torch.export.load(path).module() "
            "(probabilities)"
        ),
        notes=notes,
    )


def load_state(model: torch.nn.Module, files: dict[str, bytes]) -> None:
    """Load ``model.pt`` into ``model`` (tensors only: ``weights_only=True``)."""
    state = torch.load(io.BytesIO(files[STATE_FILE]), map_location="cpu", weights_only=True)
    model.load_state_dict(state)


def export_torch_onnx(model: torch.nn.Module, sample: Any) -> OnnxExport:
    """The model with a softmax as ONNX through the torch.export-based exporter."""
    try:
        program = export_program(model, sample)
        with quiet_exporter():
            onnx_program = torch.onnx.export(program, dynamo=True, verbose=False)
    except Exception as error:
        raise NotConvertible(
            f"torch.onnx.export(dynamo=True) failed: {type(error).__name__}: {str(error)[:300]}"
        ) from None
    if onnx_program is None:  # only when exporting to a file, which this call does not
        raise NotConvertible("torch.onnx.export returned no ONNX program")
    proto = onnx_program.model_proto
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    return OnnxExport(
        proto.SerializeToString(), None, f"torch {torch.__version__} torch.onnx (dynamo)", opset
    )
