"""Turning CLI choices (models, presets, datasets, seeds, --set) into a list of RunSpecs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.core.errors import BenchError
from bench.core.spec import DEFAULT_BACKEND, DEFAULT_PRESET, RunSpec, split_model_ref
from bench.models.registry import get_model, list_models
from bench.models.spec import ModelSpec
from bench.models.user_files import model_file
from bench.results.store.files import DEFAULT_RESULTS_DIR
from bench.results.store.tuned import is_tuned
from bench.run.backends import uses_backends
from bench.run.config import parse_overrides, resolve_config
from bench.run.fingerprint import model_fingerprint
from bench.run.tuned import tuned_config

QUICK_PRESET = "quick"
QUICK_LIMIT_TRAIN = 5000
SEED_LIMIT = 2**32
"""Seeds run from 0 to 2**32 - 1: NumPy's legacy seeding and Keras' take 32-bit seeds."""
MAX_REPEATS = 1000
"""Most seeds one sweep may ask for: each is a full training of every model (the statistics
need 3 to 10), and the run list is built up front."""


def seed_list(seed: int, repeats: int = 1) -> list[int]:
    """The seeds of ``--seed S --repeats K``: S, S+1, ..., S+K-1."""
    if repeats < 1:
        raise BenchError(f"--repeats must be at least 1, got {repeats}")
    if repeats > MAX_REPEATS:
        raise BenchError(
            f"--repeats {repeats} is more than {MAX_REPEATS:,}: each repeat trains every model "
            "once more (comparisons need 3 to 10 seeds); run a large sweep in parts with --seed"
        )
    if seed < 0:
        raise BenchError(f"--seed must be 0 or more, got {seed}")
    if seed + repeats > SEED_LIMIT:
        raise BenchError(
            f"--seed {seed} with --repeats {repeats} reaches seed {seed + repeats - 1}; seeds "
            f"must be below 2**32 = {SEED_LIMIT:,} (the frameworks take 32-bit seeds)"
        )
    return list(range(seed, seed + repeats))


def check_seeds(seeds: Sequence[int], where: str = "seeds") -> list[int]:
    """``seeds`` as a list, if there are at most :data:`MAX_REPEATS` of them and each lies in
    0 to 2**32 - 1; else a :class:`BenchError` saying which bound is broken."""
    if len(seeds) > MAX_REPEATS:
        raise BenchError(f"{where}: {len(seeds):,} seeds, more than the {MAX_REPEATS:,} allowed")
    outside = [seed for seed in seeds if not 0 <= seed < SEED_LIMIT]
    if outside:
        raise BenchError(f"{where}: seed {outside[0]} is outside 0 to 2**32 - 1")
    return list(seeds)


def expand_model_refs(refs: Sequence[str]) -> list[tuple[str, str]]:
    """Expand ``name``, ``name:preset`` and wildcard refs (``mlp*``) into (name, preset) pairs."""
    pairs: list[tuple[str, str]] = []
    for ref in refs:
        name, preset = split_model_ref(ref)
        names = list_models(name) if any(ch in name for ch in "*?[") else [get_model(name).name]
        if not names:
            raise BenchError(f"no model matches {name!r}; run 'python -m bench list' to see names")
        pairs.extend((n, preset) for n in names if (n, preset) not in pairs)
    return pairs


def split_overrides(
    raw_pairs: Sequence[str], model_names: Sequence[str]
) -> dict[str, dict[str, str]]:
    """Route ``--set`` values to models: ``key=v`` to every model that has ``key``,
    ``model.key=v`` to that model only. A key no selected model knows is an error."""
    routed: dict[str, dict[str, str]] = {name: {} for name in model_names}
    for key, value in parse_overrides(raw_pairs).items():
        scope, dot, bare_key = key.partition(".")
        if dot:
            if scope not in routed:
                raise BenchError(f"--set {key}: model {scope!r} is not among the selected models")
            declared = get_model(scope).config
            if bare_key not in declared:
                raise BenchError(
                    f"--set {key}: {scope!r} has no config key {bare_key!r}. "
                    f"Known keys: {', '.join(sorted(declared))}"
                )
            routed[scope][bare_key] = value
            continue
        owners = [name for name in model_names if key in get_model(name).config]
        if not owners:
            known = sorted({k for n in model_names for k in get_model(n).config})
            raise BenchError(
                f"--set {key}: none of the selected models has a config key {key!r}. "
                f"Known keys: {', '.join(known)}"
            )
        for name in owners:
            routed[name][key] = value
    return routed


def build_runs(
    model_refs: Sequence[str],
    datasets: Sequence[str],
    seeds: Sequence[int],
    overrides: Sequence[str] = (),
    *,
    quick: bool = False,
    limit_train: int | None = None,
    limit_test: int | None = None,
    deterministic: bool = False,
    data_dir: str | None = None,
    robustness: str | None = None,
    backends: Sequence[str] = (DEFAULT_BACKEND,),
    save_model: bool = False,
    results_dir: Path = DEFAULT_RESULTS_DIR,
) -> list[RunSpec]:
    """Return one RunSpec per (model, preset, dataset, seed, backend), configs resolved and
    validated.

    ``quick`` selects each model's ``quick`` preset where it has one (unless a preset was named)
    and trains on the first 5,000 images unless ``limit_train`` says otherwise. Runs come
    interleaved by seed; a model declared deterministic runs with the first seed only.
    ``backends`` are Keras backends: a Keras model runs once on each, a model of another
    family once (with the default backend, which it ignores). ``save_model`` keeps each trained
    model and its ONNX export beside the record.
    """
    for name, value in (("--limit-train", limit_train), ("--limit-test", limit_test)):
        if value is not None and value < 1:
            raise BenchError(f"{name} must be a positive number of images, got {value}")
    pairs = expand_model_refs(model_refs)
    if quick:
        pairs = [
            (n, QUICK_PRESET if p == DEFAULT_PRESET and QUICK_PRESET in get_model(n).presets else p)
            for n, p in pairs
        ]
        limit_train = limit_train or QUICK_LIMIT_TRAIN
    routed = split_overrides(overrides, sorted({n for n, _ in pairs}))
    configs = {
        (name, preset, dataset): resolve_config(
            *tuned_spec(get_model(name), preset, dataset, results_dir), routed[name]
        )
        for name, preset in pairs
        for dataset in datasets
    }
    fingerprints = {name: model_fingerprint(get_model(name)) for name in {n for n, _ in pairs}}
    backends_of = {
        name: list(backends) if uses_backends(get_model(name).family) else [DEFAULT_BACKEND]
        for name in {n for n, _ in pairs}
    }
    runs: list[RunSpec] = []
    # Interleaved: seed 0 of every model on every dataset, then seed 1, ..., so slow drift of
    # the machine's speed spreads over all models instead of landing on one.
    for seed in seeds:
        for dataset in datasets:
            for name, preset in pairs:
                if seed != seeds[0] and get_model(name).deterministic:
                    continue  # the same predictions for every seed: one run says it all
                runs.extend(
                    RunSpec(
                        model=name,
                        preset=preset,
                        dataset=dataset,
                        seed=seed,
                        config=configs[(name, preset, dataset)],
                        limit_train=limit_train,
                        limit_test=limit_test,
                        deterministic=deterministic,
                        data_dir=data_dir,
                        code_fingerprint=fingerprints[name],
                        robustness=robustness,
                        robustness_subset=get_model(name).robustness_subset if robustness else None,
                        backend=backend,
                        models_from=model_file(name),
                        save_model=save_model,
                    )
                    for backend in backends_of[name]
                )
    return runs


def tuned_spec(
    spec: ModelSpec, preset: str, dataset: str, results_dir: Path
) -> tuple[ModelSpec, str]:
    """For a tuned preset (``tuned``, ``tuned-s<K>``): the spec with the tuned config of
    ``dataset`` as its defaults, and the default preset; otherwise ``(spec, preset)``."""
    if not is_tuned(preset):
        return spec, preset
    return replace(spec, config=tuned_config(spec, dataset, preset, results_dir)), DEFAULT_PRESET
