"""A model's declared search space: checked, hashed, and sampled into trial configs."""

from __future__ import annotations

from typing import Any

from bench.core.errors import BenchError
from bench.models.family import FAMILIES
from bench.models.params import HARNESS_RULES, config_problems
from bench.models.space import Choice, Dimension, FloatRange, IntRange, space_problems
from bench.models.spec import ModelSpec

HOW_TO_DECLARE = (
    "declare one beside its defaults: @register_model(..., space={'learning_rate': "
    "FloatRange(1e-4, 1e-2, log=True), 'batch_size': Choice((64, 128, 256))}) with "
    "FloatRange, IntRange and Choice from bench.models.space"
)


def checked_space(spec: ModelSpec) -> dict[str, Dimension]:
    """``spec``'s space, or a :class:`BenchError` naming what is wrong and how to fix it."""
    if not spec.space:
        raise BenchError(
            f"model {spec.name!r} declares no search space, so it cannot be tuned; "
            + HOW_TO_DECLARE
        )
    rules = (spec.rules, FAMILIES.get(spec.family).config_rules, HARNESS_RULES)
    problems = space_problems(spec.space, spec.config, *rules)
    if problems:
        raise BenchError(f"model {spec.name!r}: its search space is wrong: " + "; ".join(problems))
    return dict(spec.space)


def distributions(space: dict[str, Dimension]) -> dict[str, Any]:
    """Optuna distributions for ``space`` (for ``study.ask``)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    result: dict[str, Any] = {}
    for key, dim in space.items():
        if isinstance(dim, FloatRange):
            result[key] = FloatDistribution(dim.low, dim.high, log=dim.log)
        elif isinstance(dim, IntRange):
            result[key] = IntDistribution(dim.low, dim.high, log=dim.log, step=dim.step)
        elif isinstance(dim, Choice):
            result[key] = CategoricalDistribution(dim.options)
    return result


def trial_config(spec: ModelSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The model's defaults with the trial's sampled ``params`` over them, checked against
    every declared range (a space that passed :func:`checked_space` always fits)."""
    config = {**spec.config, **{k: _plain(v) for k, v in params.items()}}
    rules = (spec.rules, FAMILIES.get(spec.family).config_rules, HARNESS_RULES)
    problems = config_problems(config, *rules)
    if problems:
        raise BenchError(f"{spec.name}: trial config out of range: " + "; ".join(problems))
    return config


def _plain(value: Any) -> Any:
    """NumPy scalars (which Optuna may hand back) as Python numbers, for JSON."""
    return value.item() if hasattr(value, "item") else value
