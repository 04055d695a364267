"""A run as plain data: one (model, preset, dataset, seed) with its resolved configuration.

A :class:`RunSpec` holds only JSON-able values, so it can be written into a record, compared
for ``--resume`` and sent to another process or machine unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

OUR_CORRUPTIONS = "ours"
"""``RunSpec.robustness`` for our MNIST-C corruptions (any other value is an MNIST-C folder)."""

DEFAULT_BACKEND = "tensorflow"
DEFAULT_PRESET = "default"


def model_label(model: str, preset: str, backend: str = DEFAULT_BACKEND) -> str:
    """How tables name a model: ``mlp`` for the default preset, else ``mlp:quick``; a Keras
    model on another backend than the default gets it appended: ``cnn_fast@jax``."""
    label = model if preset == DEFAULT_PRESET else f"{model}:{preset}"
    return label if backend == DEFAULT_BACKEND else f"{label}@{backend}"


def split_model_ref(ref: str) -> tuple[str, str]:
    """Split ``"name:preset"`` into its parts; a bare name means the default preset."""
    name, _, preset = ref.partition(":")
    return name.strip(), (preset.strip() or DEFAULT_PRESET)


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines one run's result, and nothing else."""

    model: str
    preset: str
    dataset: str
    seed: int
    config: dict[str, Any] = field(default_factory=dict)
    limit_train: int | None = None
    limit_test: int | None = None
    deterministic: bool = False
    data_dir: str | None = None
    code_fingerprint: str = ""
    robustness: str | None = None
    backend: str = DEFAULT_BACKEND
    models_from: str | None = None

    def identity(self) -> dict[str, Any]:
        """The four fields that name a run in tables and in ``--resume``."""
        return {
            "model": self.model,
            "preset": self.preset,
            "dataset": self.dataset,
            "seed": self.seed,
        }

    def config_hash(self) -> str:
        """Short hash of what changes the result: config, model code, subsets, determinism,
        and the Keras backend when it is not the default (so older run ids stay as they were).
        Where the model's file lies (``models_from``) is not hashed: its code is, through the
        fingerprint."""
        payload: dict[str, Any] = {
            "config": self.config,
            "limit_train": self.limit_train,
            "limit_test": self.limit_test,
            "deterministic": self.deterministic,
        }
        if self.code_fingerprint:  # absent from runs made before fingerprints existed
            payload["code"] = self.code_fingerprint
        if self.robustness:  # evaluation on corrupted test sets adds to the record
            payload["robustness"] = self.robustness
        if self.backend != DEFAULT_BACKEND:
            payload["backend"] = self.backend
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def run_id(self) -> str:
        """Folder name of this run's record; equal specs give equal ids."""
        backend = "" if self.backend == DEFAULT_BACKEND else f"@{self.backend}"
        model = f"{self.model}.{self.preset}{backend}"
        return f"{self.dataset}--{model}--seed{self.seed}--{self.config_hash()}"

    @property
    def label(self) -> str:
        """Model name with its preset (and a non-default backend), as tables show it:
        ``mlp``, ``mlp:quick``, ``cnn_fast@jax``."""
        return model_label(self.model, self.preset, self.backend)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for records and for sending to workers)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        """Inverse of :meth:`to_dict`; a field of the wrong type raises ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"a run must be a mapping, got {type(data).__name__}")
        spec = cls(**data)
        for name in ("model", "preset", "dataset"):
            if not isinstance(getattr(spec, name), str) or not getattr(spec, name):
                raise ValueError(f"run field {name!r} must be a non-empty string")
        if not isinstance(spec.seed, int) or isinstance(spec.seed, bool):
            raise ValueError(f"run field 'seed' must be an integer, got {spec.seed!r}")
        if not isinstance(spec.config, dict):
            raise ValueError("run field 'config' must be a mapping")
        if not isinstance(spec.backend, str) or not spec.backend:
            raise ValueError(f"run field 'backend' must be a non-empty string: {spec.backend!r}")
        return spec
