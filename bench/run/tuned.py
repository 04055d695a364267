"""Tuned presets for ``bench run``: ``MODEL:tuned`` is the best config ``bench tune`` found
for one dataset (files: :mod:`bench.results.store.tuned`).

A tuned preset is stale, like a record, once the model's code or its declared search space
changes: running it then is refused with the command that makes a fresh one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.models.space import space_hash
from bench.models.spec import ModelSpec
from bench.results.store.tuned import preset_path, read_preset, search_seed_of
from bench.run.fingerprint import model_fingerprint
from bench.run.trial import STOP_AT_EPOCHS


def stale_reason(spec: ModelSpec, preset: dict[str, Any]) -> str | None:
    """Why ``preset`` no longer fits ``spec`` (model code or space changed), or None."""
    if preset.get("code_fingerprint") != model_fingerprint(spec):
        return "the model's code changed since it was tuned"
    if preset.get("space_hash") != space_hash(spec.space):
        return "the model's search space changed since it was tuned"
    return None


def tuned_config(spec: ModelSpec, dataset: str, preset: str, results_dir: Path) -> dict[str, Any]:
    """The config of ``spec``'s tuned ``preset`` on ``dataset``: refused, with the command that
    makes a fresh one, when it is missing or stale."""
    seed = search_seed_of(preset)
    path = preset_path(results_dir, dataset, spec.name, seed)
    command = (
        f"python -m bench tune --model {spec.name} --dataset {dataset} --search-seed {seed} "
        "--trials N --trial-budget SECONDS"
    )
    if not path.is_file():
        raise BenchError(
            f"{spec.name}:{preset} has no tuned preset for {dataset} ({path}); "
            f"make one with: {command}"
        )
    data = read_preset(path)
    reason = stale_reason(spec, data)
    if reason:
        raise BenchError(
            f"{spec.name}:{preset} on {dataset} is stale ({reason}); tune it again: "
            f"{command} (a new study: another --search-seed, or delete the old one)"
        )
    unknown = sorted(set(data["config"]) - set(spec.config) - {STOP_AT_EPOCHS})
    if unknown:
        raise BenchError(f"{path} sets config keys {spec.name!r} does not have: {unknown}")
    return {**spec.config, **data["config"]}
