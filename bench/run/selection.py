"""Turning CLI choices (models, presets, datasets, seeds, --set) into a list of RunSpecs."""

from __future__ import annotations

from collections.abc import Sequence

from bench.core.errors import BenchError
from bench.core.spec import DEFAULT_BACKEND, RunSpec, split_model_ref
from bench.models.registry import DEFAULT_PRESET, get_model, list_models
from bench.models.user_files import model_file
from bench.run.backends import uses_backends
from bench.run.config import parse_overrides, resolve_config
from bench.run.fingerprint import model_fingerprint

QUICK_PRESET = "quick"
QUICK_LIMIT_TRAIN = 5000


def seed_list(seed: int, repeats: int = 1) -> list[int]:
    """The seeds of ``--seed S --repeats K``: S, S+1, ..., S+K-1."""
    if repeats < 1:
        raise BenchError(f"--repeats must be at least 1, got {repeats}")
    if seed < 0:
        raise BenchError(f"--seed must be 0 or more, got {seed}")
    return list(range(seed, seed + repeats))


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
            known = get_model(scope).config
            if bare_key not in known:
                raise BenchError(
                    f"--set {key}: {scope!r} has no config key {bare_key!r}. "
                    f"Known keys: {', '.join(sorted(known))}"
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
) -> list[RunSpec]:
    """Return one RunSpec per (model, preset, dataset, seed, backend), configs resolved and
    validated.

    ``quick`` selects each model's ``quick`` preset where it has one (unless a preset was named)
    and trains on the first 5,000 images unless ``limit_train`` says otherwise. Runs come
    interleaved by seed; a model declared deterministic runs with the first seed only.
    ``backends`` are Keras backends: a Keras model runs once on each, a model of another
    family once (with the default backend, which it ignores).
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
        (name, preset): resolve_config(get_model(name), preset, routed[name])
        for name, preset in pairs
    }
    fingerprints = {name: model_fingerprint(get_model(name)) for name in {n for n, _ in pairs}}
    backends_of = {
        name: list(backends) if uses_backends(get_model(name).family) else [DEFAULT_BACKEND]
        for name in {n for n, _ in pairs}
    }
    runs = []
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
                        config=configs[(name, preset)],
                        limit_train=limit_train,
                        limit_test=limit_test,
                        deterministic=deterministic,
                        data_dir=data_dir,
                        code_fingerprint=fingerprints[name],
                        robustness=robustness,
                        backend=backend,
                        models_from=model_file(name),
                    )
                    for backend in backends_of[name]
                )
    return runs
