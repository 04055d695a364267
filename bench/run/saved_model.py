"""Loading a model that ``--save-model`` kept: :func:`load_model` and :class:`SavedModel`.

The record is found by its run id under a results folder; each file is checked against the
SHA-256 in the record before anything reads it (:mod:`bench.results.store.model_files`). The model
is rebuilt through its family's adapter (``restore_model``), so the loaded model predicts
through the same calls as the run that trained it, on raw uint8 images: the model's own
preprocessing is applied first.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.core.errors import BenchError
from bench.models.family import Adapter, make_adapter
from bench.models.registry import get_model
from bench.models.spec import ModelSpec
from bench.results.store.files import DEFAULT_RESULTS_DIR, read_record, record_path
from bench.results.store.model_files import read_model_file
from bench.results.store.record import RecordError, RunRecord
from bench.run.fingerprint import model_fingerprint


@dataclass
class SavedModel:
    """A trained model loaded back from its files, with the record of the run that made it."""

    record: RunRecord
    spec: ModelSpec
    adapter: Adapter

    @property
    def native(self) -> Any:
        """The framework's own object: a ``keras.Model``, ``torch.nn.Module`` or estimator."""
        for name in ("model", "estimator"):
            if hasattr(self.adapter, name):
                return getattr(self.adapter, name)
        raise AttributeError("the adapter holds no model")

    @property
    def image_shape(self) -> tuple[int, int]:
        """The (height, width) of the images the model takes."""
        height, width = (self.record.saved_model or {})["image_shape"]
        return int(height), int(width)

    @property
    def class_names(self) -> list[str]:
        """The dataset's class names, in the order of the probability columns."""
        names = self.record.dataset_info.get("class_names")
        count = int((self.record.saved_model or {})["num_classes"])
        return list(names) if names and len(names) == count else [str(i) for i in range(count)]

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for uint8 images (N, H, W) (or one image (H, W))."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[np.newaxis]
        if images.ndim != 3 or tuple(images.shape[1:]) != self.image_shape:
            raise BenchError(
                f"expected uint8 images (N, {self.image_shape[0]}, {self.image_shape[1]}), "
                f"got an array of shape {images.shape}"
            )
        if images.dtype != np.uint8:
            raise BenchError(f"expected uint8 pixels 0-255, got dtype {images.dtype}")
        return np.asarray(self.adapter.predict_proba(self.spec.preprocess(images)))

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The most probable class index of each image."""
        return self.predict_proba(images).argmax(axis=1)


def find_record(run_id: str, results_dir: str | Path = DEFAULT_RESULTS_DIR) -> RunRecord:
    """The record of ``run_id`` under ``results_dir``; an unknown id names the closest ones."""
    results_dir = Path(results_dir)
    path = record_path(results_dir, run_id)
    if not path.is_file():
        runs = results_dir / "runs"
        known = sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
        close = difflib.get_close_matches(run_id, known, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise BenchError(
            f"no run {run_id!r} under {results_dir}.{hint} ('python -m bench export' lists "
            "the run ids; --results-dir names another folder)"
        )
    try:
        return read_record(path)
    except RecordError as error:
        raise BenchError(f"the record {path} cannot be used: {error}") from None


def model_spec(record: RunRecord) -> ModelSpec:
    """The registered model of ``record`` (loading the user's ``--models-from`` file first
    when the run named one)."""
    if record.run.models_from:
        from bench.models.user_files import load_model_file

        if Path(record.run.models_from).is_file():
            load_model_file(record.run.models_from)
    return get_model(record.model)


def load_model(run_id: str, results_dir: str | Path = DEFAULT_RESULTS_DIR) -> SavedModel:
    """Load the model that run ``run_id`` kept with ``--save-model``, its files' hashes checked.

    Raises :class:`BenchError` when the run kept no model, a file differs from its hash, or
    the files do not load into the model's current code.
    """
    return restore_saved_model(find_record(run_id, results_dir), results_dir)


def restore_saved_model(record: RunRecord, results_dir: str | Path) -> SavedModel:
    """The model ``record``'s run kept, rebuilt from its files (hashes checked first)."""
    results_dir, run_id = Path(results_dir), record.run_id
    saved = record.saved_model
    if not record.ok or not saved or "native" not in saved:
        raise BenchError(
            f"run {run_id} kept no model; rerun it with --save-model "
            f"(python -m bench run --model {record.run.model}:{record.run.preset} "
            f"--dataset {record.dataset} --seed {record.seed} --save-model)"
        )
    files = {name: read_model_file(results_dir, record, name) for name in saved["native"]["files"]}
    spec = model_spec(record)
    adapter = make_adapter(
        spec, dict(record.config), tuple(saved["input_shape"]), int(saved["num_classes"])
    )
    try:
        adapter.restore_model(files)  # type: ignore[attr-defined]
    except Exception as error:
        changed = ""
        if record.run.code_fingerprint and model_fingerprint(spec) != record.run.code_fingerprint:
            changed = " (the model's code changed since the run)"
        raise BenchError(
            f"the saved model of run {run_id} does not load{changed}: "
            f"{type(error).__name__}: {error}"
        ) from None
    return SavedModel(record, spec, adapter)


def native_model(record: RunRecord, results_dir: Path) -> Any:
    """The framework's own model that ``record``'s run kept (its files' hashes checked): the
    loader the commands hand to trackers that log native models."""
    return restore_saved_model(record, results_dir).native
