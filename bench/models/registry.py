"""The model registry: model name -> :class:`ModelSpec`.

A model family file in ``architectures/`` registers each model with :func:`register_model`;
the decorated builder's function name is the model's name. Third-party packages add models
through the entry point group ``mnist_bench.architectures``: each entry point names a module
that registers its models when imported.

Model files are imported only when the registry is first consulted, and they must not import
TensorFlow at module level, so listing stays cheap until a model is built.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from bench.core.errors import BenchError
from bench.core.registry import Registry
from bench.core.spec import DEFAULT_PRESET
from bench.models.family import FAMILIES
from bench.models.params import Param, split_params

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

    def preset_names(self) -> list[str]:
        """Return ``default`` followed by the declared presets."""
        return [DEFAULT_PRESET, *self.presets]


def load_builtin_and_plugin_models() -> None:
    """Import every module of the ``architectures`` package, then every plugin entry point."""
    package = importlib.import_module(ARCHITECTURES_PACKAGE)
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"{ARCHITECTURES_PACKAGE}.{module.name}")
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry_point.load()
        except Exception as error:  # a broken plugin must not hide the built-in models
            print(f"warning: plugin {entry_point.name!r} failed to load: {error}")


REGISTRY: Registry[ModelSpec] = Registry(
    "model", hint="Run 'python -m bench list' to see them all."
)
REGISTRY.add_loader(load_builtin_and_plugin_models)


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
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers a model builder under its function name.

    Example
    -------
    >>> @register_model(family="sklearn", preprocess=flatten_and_scale, config={"C": 1.0})
    ... def my_logreg(config, input_shape, num_classes):
    ...     '''Logistic regression with my settings.'''
    ...     return LogisticRegression(C=config["C"])
    """
    problems = FAMILIES.get(family).missing({"optimizer": optimizer, "loss": loss})
    if problems:
        raise BenchError("; ".join(problems))
    presets = dict(presets or {})
    defaults, rules = split_params({**FAMILIES.get(family).defaults, **config})
    config = defaults
    for preset_name, overrides in presets.items():
        unknown = sorted(set(overrides) - set(config))
        if unknown:
            raise BenchError(
                f"preset {preset_name!r} sets unknown config keys {unknown}; "
                f"declare them in config first (known: {sorted(config)})"
            )

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
        doc = (builder.__doc__ or "").strip().splitlines()
        spec = ModelSpec(
            name=builder.__name__,
            family=family,
            build=builder,
            preprocess=preprocess,
            config=MappingProxyType(dict(config)),
            presets=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in presets.items()}),
            optimizer=optimizer,
            loss=loss,
            description=doc[0] if doc else "",
            reference=reference,
            deterministic=deterministic,
            tuning=tuning,
            min_image_size=min_image_size,
        )
        REGISTRY.add(spec.name, spec)
        return builder

    return decorator


def get_model(name: str) -> ModelSpec:
    """Return the registered spec called ``name`` (see :meth:`Registry.get`)."""
    return REGISTRY.get(name)


def list_models(pattern: str = "*") -> list[str]:
    """Return the registered model names matching ``pattern`` (fnmatch wildcards)."""
    return REGISTRY.names(pattern)
