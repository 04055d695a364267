"""Where tuned presets live and how their names read (``bench tune`` writes them; ``bench
run MODEL:tuned`` and the report read them).

``<results>/tuning/<dataset>/<model>.json`` holds the preset ``MODEL:tuned`` of search seed 0;
search seed K writes ``<model>--search<K>.json``, run as ``MODEL:tuned-s<K>``. Trial records
live beside them, in ``<results>/tuning/<dataset>/<model>/runs/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError

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
