"""Tuned presets: ``MODEL:tuned`` is the best config ``bench tune`` found for one dataset.

``bench tune`` writes ``<results>/tuning/<dataset>/<model>.json`` (search seed 0; search seed
K writes ``<model>--search<K>.json``, run as ``MODEL:tuned-s<K>``). A tuned preset is stale,
like a record, once the model's code or its declared search space changes: running it then is
refused with the command that makes a fresh one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.models.registry import ModelSpec
from bench.models.space import space_hash
from bench.run.fingerprint import model_fingerprint

TUNED_PRESET = "tuned"
TUNING_FOLDER = "tuning"
PRESET_FORMAT = "mnist-bench tuned preset 1"
MAX_PRESET_BYTES = 1_000_000


def is_tuned(preset: str) -> bool:
    """True for ``tuned`` and ``tuned-s<K>`` (the preset of search seed K)."""
    return preset == TUNED_PRESET or (
        preset.startswith(f"{TUNED_PRESET}-s") and preset[len(TUNED_PRESET) + 2 :].isdigit()
    )


def preset_name(search_seed: int) -> str:
    """``tuned`` for search seed 0, ``tuned-s<K>`` for search seed K."""
    return TUNED_PRESET if search_seed == 0 else f"{TUNED_PRESET}-s{search_seed}"


def search_seed_of(preset: str) -> int:
    """Inverse of :func:`preset_name`."""
    return 0 if preset == TUNED_PRESET else int(preset[len(TUNED_PRESET) + 2 :])


def preset_path(results_dir: Path, dataset: str, model: str, search_seed: int = 0) -> Path:
    """Where the tuned preset of ``model`` on ``dataset`` for ``search_seed`` lives."""
    name = model if search_seed == 0 else f"{model}--search{search_seed}"
    return Path(results_dir) / TUNING_FOLDER / dataset / f"{name}.json"


def read_preset(path: Path) -> dict[str, Any]:
    """A tuned preset file's content, or a :class:`BenchError` saying why it cannot be used."""
    if not path.is_file():
        raise BenchError(f"no tuned preset at {path}")
    if path.stat().st_size > MAX_PRESET_BYTES:
        raise BenchError(f"{path} is larger than a tuned preset can be; remove it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BenchError(f"{path} cannot be read as a tuned preset ({error})") from None
    if not isinstance(data, dict) or data.get("format") != PRESET_FORMAT:
        raise BenchError(f"{path} is not a tuned preset ({PRESET_FORMAT!r})")
    if not isinstance(data.get("config"), dict):
        raise BenchError(f"{path} holds no config")
    return data


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
    unknown = sorted(set(data["config"]) - set(spec.config))
    if unknown:
        raise BenchError(f"{path} sets config keys {spec.name!r} does not have: {unknown}")
    return {**spec.config, **data["config"]}
