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


def model_label(model: str, preset: str) -> str:
    """How tables name a model: ``mlp`` for the default preset, else ``mlp:quick``."""
    return model if preset == "default" else f"{model}:{preset}"


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

    def identity(self) -> dict[str, Any]:
        """The four fields that name a run in tables and in ``--resume``."""
        return {
            "model": self.model,
            "preset": self.preset,
            "dataset": self.dataset,
            "seed": self.seed,
        }

    def config_hash(self) -> str:
        """Short hash of what changes the result: config, model code, subsets, determinism."""
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
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def run_id(self) -> str:
        """Folder name of this run's record; equal specs give equal ids."""
        return f"{self.dataset}--{self.model}.{self.preset}--seed{self.seed}--{self.config_hash()}"

    @property
    def label(self) -> str:
        """Model name with its preset, as tables show it (``mlp`` or ``mlp:quick``)."""
        return model_label(self.model, self.preset)

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
        return spec
