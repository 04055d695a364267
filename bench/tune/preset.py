"""The outcome of a search: the preset ``MODEL:tuned`` (``tuned-s<K>`` for search seed K)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError
from bench.core.fsutil import atomic_write_json
from bench.models.space import space_dict, space_hash
from bench.models.spec import ModelSpec
from bench.results.store.tuned import PRESET_FORMAT, preset_name, preset_path
from bench.run.fingerprint import model_fingerprint
from bench.run.trial import STOP_AT_EPOCHS
from bench.tune.study import STORAGE_FILE, StudyResult, StudySettings


def preset_content(settings: StudySettings, spec: ModelSpec, result: StudyResult) -> dict[str, Any]:
    """The tuned preset's JSON: best config, where it came from, what the search cost."""
    if result.best is None:
        raise BenchError(
            f"study {result.name}: no trial completed ({result.count('PRUNED')} pruned, "
            f"{result.count('FAIL')} failed), so there is no tuned preset; read the trial "
            "records for the failures, or give each trial more --trial-budget"
        )
    best = result.best
    trained = [t.user_attrs.get("train_seconds") or 0.0 for t in result.trials]
    return {
        "format": PRESET_FORMAT,
        "model": spec.name,
        "dataset": settings.dataset,
        "preset": preset_name(settings.search_seed),
        "config": best_config(best),
        "best_trial": best.number,
        "best_val_accuracy": best.value,
        "best_run_id": best.user_attrs.get("run_id"),
        "study": result.name,
        "storage": f"{STORAGE_FILE} (beside this folder)",
        "sampler": settings.sampler,
        "pruner": settings.pruner,
        "search_seed": settings.search_seed,
        "budget": settings.budget.to_dict(),
        "limit_train": settings.limit_train,
        "trials": {
            "total": len(result.trials),
            "complete": result.count("COMPLETE"),
            "pruned": result.count("PRUNED"),
            "failed": result.count("FAIL"),
            "over_budget": sum(1 for t in result.trials if t.user_attrs.get("over_budget")),
        },
        "cost": {
            "train_seconds": float(sum(trained)),
            "max_trial_train_seconds": float(max(trained, default=0.0)),
            "wall_seconds": float(
                sum(t.user_attrs.get("wall_seconds") or 0.0 for t in result.trials)
            ),
        },
        "code_fingerprint": model_fingerprint(spec),
        "space_hash": space_hash(spec.space),
        "space": space_dict(spec.space),
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def best_config(best: Any) -> dict[str, Any]:
    """The best trial's sampled values; when the budget cut its training, also where
    (``stop_at_epochs``), so a run of the preset trains exactly as the trial did."""
    config = {key: best.params[key] for key in sorted(best.params)}
    if best.user_attrs.get("stopped") == "budget" and best.user_attrs.get("epochs_done"):
        config[STOP_AT_EPOCHS] = float(best.user_attrs["epochs_done"])
    return config


def write_preset(
    settings: StudySettings, spec: ModelSpec, result: StudyResult, results_dir: Path
) -> Path:
    """Write the tuned preset atomically; return its path."""
    path = preset_path(results_dir, settings.dataset, spec.name, settings.search_seed)
    atomic_write_json(path, preset_content(settings, spec, result))
    return path
