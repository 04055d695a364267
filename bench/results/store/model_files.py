"""Saved model files beside a record: where they go, their SHA-256, and reading them back checked.

``--save-model`` leaves files such as ``model.keras`` and ``model.onnx`` in the run's folder
(``<results>/runs/<run-id>/``). The record's ``saved_model["files"]`` maps each file name to
its SHA-256 and size; nothing reads a model file without checking that hash first, so a file
changed after the run is refused, never loaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_bytes
from bench.results.store.layout import run_folder
from bench.results.store.record import RunRecord


def check_file_name(name: str) -> str:
    """A model file's name must be a plain file name (no folder, no leading dot)."""
    if not name or name != Path(name).name or name.startswith(".") or "\\" in name:
        raise BenchError(f"model file name {name!r} must be a plain file name")
    return name


def write_model_files(results_dir: Path, run_id: str, files: dict[str, bytes]) -> dict[str, Any]:
    """Write each file atomically into the run's folder; return ``{name: {sha256, bytes}}``."""
    folder = run_folder(results_dir, run_id)
    written = {}
    for name, content in files.items():
        atomic_write_bytes(folder / check_file_name(name), content)
        written[name] = {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    return written


def store_model_files(results_dir: Path, record: RunRecord) -> None:
    """Write the model files ``record`` carries in memory and enter their hashes in
    ``record.saved_model["files"]`` (files already listed there are kept)."""
    if not record.model_files:
        return
    written = write_model_files(results_dir, record.run_id, record.model_files)
    saved = dict(record.saved_model or {})
    saved["files"] = {**saved.get("files", {}), **written}
    record.saved_model = saved
    record.model_files = None


def model_file_path(results_dir: Path, run_id: str, name: str) -> Path:
    """Where the saved model file ``name`` of ``run_id`` lies."""
    return run_folder(results_dir, run_id) / check_file_name(name)


def read_model_file(results_dir: Path, record: RunRecord, name: str) -> bytes:
    """The content of a saved model file, after checking it against the SHA-256 in the record.

    Raises :class:`BenchError` when the run kept no such file, the file is missing, or its
    hash differs from the record's (the file changed after the run: rerun it with
    ``--save-model``).
    """
    entry = ((record.saved_model or {}).get("files") or {}).get(name)
    if entry is None:
        raise BenchError(
            f"run {record.run_id} kept no model file {name!r}; rerun it with --save-model"
        )
    path = model_file_path(results_dir, record.run_id, name)
    try:
        content = path.read_bytes()
    except OSError as error:
        raise BenchError(f"cannot read the model file {path}: {error.strerror or error}") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != entry.get("sha256"):
        raise BenchError(
            f"{path} does not match the SHA-256 in its record (file {digest[:12]}..., record "
            f"{str(entry.get('sha256'))[:12]}...): it changed after the run and is not loaded; "
            "rerun the run with --save-model"
        )
    return content
