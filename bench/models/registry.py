"""The model registry: model name -> :class:`ModelSpec`.

A model family file in ``architectures/`` registers each model with :func:`register_model`;
the decorated builder's function name is the model's name. Third-party packages add models
through the entry point group ``mnist_bench.architectures``: each entry point names a module
that registers its models when imported.

Model files are imported only when the registry is first consulted, and they must not import
TensorFlow at module level, so listing stays cheap until a model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from bench.core.errors import BenchError
from bench.core.registry import Registry, discover
from bench.models.family import FAMILIES
from bench.models.params import split_params
from bench.models.space import Space
from bench.models.spec import ModelSpec, PublishedReference

ENTRY_POINT_GROUP = "mnist_bench.architectures"
ARCHITECTURES_PACKAGE = "architectures"


REGISTRY: Registry[ModelSpec] = Registry(
    "model", hint="Run 'python -m bench list' to see them all."
)
REGISTRY.add_loader(discover(ARCHITECTURES_PACKAGE, ENTRY_POINT_GROUP))


def register_model(
    *,
    family: str,
    preprocess: Callable[[Any], Any],
    config: Mapping[str, Any],
    presets: Mapping[str, Mapping[str, Any]] | None = None,
    optimizer: Callable[..., Any] | None = None,
    loss: Callable[..., Any] | None = None,
    reference: PublishedReference | None = None,
    deterministic: bool = False,
    tuning: str = "",
    min_image_size: int | None = None,
    robustness_subset: int | None = None,
    space: Space | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers a model builder under its function name.

    Every keyword is the :class:`ModelSpec` field of the same name and reaches the spec as
    given (``config`` split into defaults and the ranges its ``Param`` entries declare,
    ``presets`` frozen): a new field is one keyword here and one field there, never a copy.

    Example
    -------
    >>> @register_model(family="sklearn", preprocess=flatten_and_scale, config={"C": 1.0})
    ... def my_logreg(config, input_shape, num_classes):
    ...     '''Logistic regression with my settings.'''
    ...     return LogisticRegression(C=config["C"])
    """
    fields = declaration_fields(dict(locals()))  # exactly the keywords above

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
        doc = (builder.__doc__ or "").strip().splitlines()
        spec = ModelSpec(
            name=builder.__name__, build=builder, description=doc[0] if doc else "", **fields
        )
        REGISTRY.add(spec.name, spec)
        return builder

    return decorator


def declaration_fields(declared: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`ModelSpec` fields of a ``register_model(**declared)`` call, checked: the
    family's required callables are given, presets set only declared keys, and
    ``robustness_subset`` and ``min_image_size`` are positive integers or None."""
    fields = dict(declared)
    family = FAMILIES.get(fields["family"])
    problems = family.missing(fields)
    for name in ("robustness_subset", "min_image_size"):
        value = fields.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            problems.append(f"{name} must be a positive integer or None, got {value!r}")
    if problems:
        raise BenchError("; ".join(problems))
    defaults, rules = split_params({**family.defaults, **fields["config"]})
    presets = dict(fields.get("presets") or {})
    for preset_name, overrides in presets.items():
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise BenchError(
                f"preset {preset_name!r} sets unknown config keys {unknown}; "
                f"declare them in config first (known: {sorted(defaults)})"
            )
    fields["config"] = MappingProxyType(defaults)
    fields["rules"] = MappingProxyType(rules)
    fields["space"] = MappingProxyType(dict(fields.get("space") or {}))
    fields["presets"] = MappingProxyType(
        {name: MappingProxyType(dict(values)) for name, values in presets.items()}
    )
    return fields


def get_model(name: str) -> ModelSpec:
    """Return the registered spec called ``name`` (see :meth:`Registry.get`)."""
    return REGISTRY.get(name)


def declared_robustness_subsets() -> dict[str, int | None]:
    """Model name -> the robustness subset it declares (None: every test image), for the
    stale check of records scored on other images."""
    return {name: REGISTRY.get(name).robustness_subset for name in REGISTRY.names()}


def list_models(pattern: str = "*") -> list[str]:
    """Return the registered model names matching ``pattern`` (fnmatch wildcards)."""
    return REGISTRY.names(pattern)
