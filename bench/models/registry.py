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
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bench.core.errors import BenchError
from bench.core.registry import Registry, discover
from bench.core.spec import DEFAULT_PRESET
from bench.models.family import FAMILIES
from bench.models.params import Param, split_params
from bench.models.space import Space

ENTRY_POINT_GROUP = "mnist_bench.architectures"
ARCHITECTURES_PACKAGE = "architectures"


@dataclass(frozen=True)
class PublishedReference:
    """A published result a model reproduces: where, what test error, under which conditions,
    and on which dataset."""

    source: str
    test_error_pct: float
    conditions: str
    dataset: str = "mnist"


@dataclass(frozen=True)
class ModelSpec:
    """Everything the trainer needs to know about one registered model.

    Attributes
    ----------
    name:
        Registry name (the builder's function name).
    family:
        ``"keras"`` (builder returns an uncompiled ``keras.Model``), ``"torch"`` (builder
        returns a ``torch.nn.Module`` that outputs logits) or ``"sklearn"`` (builder returns an
        unfitted estimator).
    build:
        ``build(config, input_shape, num_classes)`` -> model. ``input_shape`` is the shape
        of one preprocessed sample.
    preprocess:
        ``preprocess(images_uint8)`` -> model input array; images are ``(N, H, W)`` uint8.
    config:
        Default training configuration (epochs, batch size, learning rate, ...). Every key
        may be overridden by a preset or by ``--set key=value``. A value given as
        ``Param(default, minimum=..., choices=...)`` also declares its allowed range.
    presets:
        Named partial configs, e.g. ``{"quick": {"epochs": 1}}``.
    optimizer:
        Keras: ``optimizer(config, steps_per_epoch)`` -> a Keras optimizer. PyTorch:
        ``optimizer(config, parameters, steps_per_epoch)`` -> a ``torch.optim.Optimizer``, or
        ``(optimizer, scheduler)`` with a scheduler stepped after every batch.
    loss:
        Keras: ``loss(config)`` -> a Keras loss; labels are one-hot encoded for it. PyTorch:
        ``loss(config)`` -> ``loss_fn(logits, labels)`` with integer labels (default
        ``torch.nn.CrossEntropyLoss()``).
    description:
        One line for ``bench list`` (the builder docstring's first line).
    reference:
        The published result this model reproduces, if any (shown beside ours).
    deterministic:
        True when training gives the same predictions for every seed (run once per dataset).
    tuning:
        How the defaults were chosen, in a few words, for the leaderboard.
    min_image_size:
        Smallest image side the model's layers accept (checked before any training).
    robustness_subset:
        For slow models: how many images of each corrupted test set robustness evaluation
        uses (a fixed, stratified subset, the same for every run); None for all of them.
    rules:
        The allowed ranges its config declared with :class:`~bench.models.params.Param`.
    space:
        What ``bench tune`` searches: config key -> ``FloatRange``, ``IntRange`` or ``Choice``
        (:mod:`bench.models.space`); empty for a model that cannot be tuned yet.
    """

    name: str
    family: str
    build: Callable[..., Any]
    preprocess: Callable[[Any], Any]
    config: Mapping[str, Any]
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    optimizer: Callable[..., Any] | None = None
    loss: Callable[..., Any] | None = None
    description: str = ""
    reference: PublishedReference | None = None
    deterministic: bool = False
    tuning: str = ""
    min_image_size: int | None = None
    robustness_subset: int | None = None
    rules: Mapping[str, Param] = field(default_factory=dict)
    space: Space = field(default_factory=dict)

    def preset_names(self) -> list[str]:
        """Return ``default`` followed by the declared presets."""
        return [DEFAULT_PRESET, *self.presets]


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
