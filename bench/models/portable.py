"""What every family's adapter gives for ``--save-model``: its native files, and an ONNX export.

An adapter that can keep its model has three methods:

- ``save_model() -> SavedFiles``: the trained model in the framework's own format, as bytes;
- ``restore_model(files)``: the inverse, on an adapter built from the same spec and config;
- ``export_onnx(sample) -> OnnxExport``: an ONNX model from preprocessed images (float32, any
  batch size) to class probabilities; it raises :class:`NotConvertible` saying why when the
  model has no ONNX form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ONNX_FILE = "model.onnx"


class NotConvertible(Exception):
    """The model has no ONNX export here; the message says why (it goes into the record)."""


@dataclass
class SavedFiles:
    """A trained model in its framework's format: file name -> content, and how to load it."""

    format: str
    files: dict[str, bytes]
    loads_with: str
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """The record's description of the native files (their hashes come from the store)."""
        return {
            "format": self.format,
            "files": sorted(self.files),
            "loads_with": self.loads_with,
            "notes": list(self.notes),
        }


@dataclass
class OnnxExport:
    """A serialized ONNX model, the name of its probabilities output and what made it."""

    content: bytes
    output_name: str | None
    exporter: str
    opset: int | None = None


# What --save-model needs per family beside the framework: ONNX Runtime checks every export.
SAVE_REQUIREMENTS = {
    "keras": ("onnx", "onnxruntime", "tf2onnx"),
    "torch": ("onnx", "onnxruntime", "onnxscript"),
    "sklearn": ("onnx", "onnxruntime", "skl2onnx", "skops"),
}
INSTALL_HINT = "pip install 'mnist-bench[onnx]'"


def missing_for_saving(family: str) -> list[str]:
    """The modules ``--save-model`` needs for a model of ``family`` that are not installed
    (nothing is imported)."""
    import importlib.util

    needed = SAVE_REQUIREMENTS.get(family, ("onnx", "onnxruntime"))
    return [name for name in needed if importlib.util.find_spec(name) is None]
