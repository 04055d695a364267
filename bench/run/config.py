"""Resolving a model's training configuration: defaults, then a preset, then ``--set`` values."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from bench.core.errors import BenchError
from bench.core.spec import DEFAULT_PRESET
from bench.models.family import FAMILIES
from bench.models.params import HARNESS_RULES, config_problems
from bench.models.spec import ModelSpec


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """Turn ``["epochs=3", "batch_size=128"]`` into a dict of raw strings."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BenchError(f"--set expects KEY=VALUE, got {pair!r} (example: --set epochs=3)")
        overrides[key.strip()] = value.strip()
    return overrides


def coerce_value(key: str, raw: Any, default: Any) -> Any:
    """Convert ``raw`` to the type of ``default``; raise a clear error when it does not fit."""
    if not isinstance(raw, str):
        return raw
    expected = type(default)
    try:
        if isinstance(default, bool):
            lowered = raw.lower()
            if lowered in {"true", "1", "yes", "on"}:
                return True
            if lowered in {"false", "0", "no", "off"}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if default is None:
            return None if raw.lower() in {"none", "null", ""} else raw
    except ValueError:
        raise BenchError(
            f"--set {key}={raw}: expected a value of type {expected.__name__} "
            f"(the default is {default!r})"
        ) from None
    return raw


def resolve_config(
    spec: ModelSpec, preset: str = DEFAULT_PRESET, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return ``spec.config`` updated by ``preset`` and then by ``overrides``.

    Unknown preset names, unknown or ill-typed override keys, and values outside the range
    the model, its family or the harness declares raise :class:`BenchError`.
    """
    config = dict(spec.config)
    if preset != DEFAULT_PRESET:
        if preset not in spec.presets:
            raise BenchError(
                f"model {spec.name!r} has no preset {preset!r}; "
                f"its presets are: {', '.join(spec.preset_names())}"
            )
        config.update(spec.presets[preset])
    for key, raw in (overrides or {}).items():
        if key not in config:
            close = difflib.get_close_matches(key, list(config), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise BenchError(
                f"--set {key}: {spec.name!r} has no config key {key!r}.{hint} "
                f"Known keys: {', '.join(sorted(config))}"
            )
        config[key] = coerce_value(key, raw, spec.config[key])
    family_rules = FAMILIES.get(spec.family).config_rules
    problems = config_problems(config, spec.rules, family_rules, HARNESS_RULES)
    if problems:
        where = f"{spec.name}:{preset}" if preset != DEFAULT_PRESET else spec.name
        raise BenchError(f"{where}: " + "; ".join(problems))
    return config


def overridden_keys(spec: ModelSpec, preset: str, config: Mapping[str, Any]) -> list[str]:
    """The keys of ``config`` whose value differs from what ``spec`` and its ``preset``
    declare: those a ``--set`` (or a sweep file) changed. The report marks such runs, since
    the model's "defaults chosen by" note then describes values the run did not use."""
    declared = {**spec.config, **spec.presets.get(preset, {})}
    return sorted(key for key, value in config.items() if declared.get(key) != value)
