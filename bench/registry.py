"""The model registry: model name -> :class:`ModelSpec`.

A model family file in ``architectures/`` registers each model with :func:`register_model`;
the decorated builder's function name is the model's name. Third-party packages add models
through the entry point group ``mnist_bench.architectures``: each entry point names a module
that registers its models when imported.

Model files are imported only when the registry is first consulted, and they must not import
TensorFlow at module level, so listing stays cheap until a model is built.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any, Literal

from bench.errors import BenchError

Family = Literal["keras", "sklearn"]
ENTRY_POINT_GROUP = "mnist_bench.architectures"
BUILTIN_MODULES = (
    "architectures.article_cnn",
    "architectures.cnn_fast",
    "architectures.mlp",
    "architectures.logreg",
    "architectures.lecun1998",
    "architectures.neighbors",
    "architectures.svm",
    "architectures.forest",
)
DEFAULT_PRESET = "default"


@dataclass(frozen=True)
class PublishedReference:
    """A published result a model reproduces: where, what test error, under which conditions."""

    source: str
    test_error_pct: float
    conditions: str


@dataclass(frozen=True)
class ModelSpec:
    """Everything the trainer needs to know about one registered model.

    Attributes
    ----------
    name:
        Registry name (the builder's function name).
    family:
        ``"keras"`` (builder returns an uncompiled ``keras.Model``) or ``"sklearn"`` (builder
        returns an unfitted estimator).
    build:
        ``build(config, input_shape, num_classes)`` -> model. ``input_shape`` is the shape
        of one preprocessed sample.
    preprocess:
        ``preprocess(images_uint8)`` -> model input array; images are ``(N, H, W)`` uint8.
    config:
        Default training configuration (epochs, batch size, learning rate, ...). Every key
        may be overridden by a preset or by ``--set key=value``.
    presets:
        Named partial configs, e.g. ``{"quick": {"epochs": 1}}``.
    optimizer:
        Keras only: ``optimizer(config, steps_per_epoch)`` -> a Keras optimizer.
    loss:
        Keras only: ``loss(config)`` -> a Keras loss; labels are one-hot encoded for it.
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
    """

    name: str
    family: Family
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

    def preset_names(self) -> list[str]:
        """Return ``default`` followed by the declared presets."""
        return [DEFAULT_PRESET, *self.presets]


class Registry:
    """A name -> :class:`ModelSpec` mapping with helpful lookup errors."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}
        self._loaded = False

    def add(self, spec: ModelSpec) -> None:
        """Register ``spec``; a second model with the same name is an error."""
        if spec.name in self._specs and self._specs[spec.name].build is not spec.build:
            raise BenchError(f"model name {spec.name!r} is registered twice; rename one of them")
        self._specs[spec.name] = spec

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module_name in BUILTIN_MODULES:
            importlib.import_module(module_name)
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry_point.load()
            except Exception as error:  # a broken plugin must not hide the built-in models
                print(f"warning: plugin {entry_point.name!r} failed to load: {error}")

    def names(self, pattern: str = "*") -> list[str]:
        """Return registered names matching the fnmatch ``pattern``, in natural order."""
        self._ensure_loaded()
        matches = [name for name in self._specs if fnmatch.fnmatch(name, pattern)]
        return sorted(matches, key=_natural_key)

    def get(self, name: str) -> ModelSpec:
        """Return the spec for ``name`` or raise a :class:`BenchError` naming close matches."""
        self._ensure_loaded()
        if name in self._specs:
            return self._specs[name]
        close = difflib.get_close_matches(name, list(self._specs), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise BenchError(
            f"unknown model {name!r}.{hint} Available models: {', '.join(self.names())}. "
            "Run 'python -m bench list' to see them all."
        )


REGISTRY = Registry()


def register_model(
    *,
    family: Family,
    preprocess: Callable[[Any], Any],
    config: Mapping[str, Any],
    presets: Mapping[str, Mapping[str, Any]] | None = None,
    optimizer: Callable[..., Any] | None = None,
    loss: Callable[..., Any] | None = None,
    reference: PublishedReference | None = None,
    deterministic: bool = False,
    tuning: str = "",
    min_image_size: int | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers a model builder under its function name.

    Example
    -------
    >>> @register_model(family="sklearn", preprocess=flatten_and_scale, config={"C": 1.0})
    ... def my_logreg(config, input_shape, num_classes):
    ...     '''Logistic regression with my settings.'''
    ...     return LogisticRegression(C=config["C"])
    """
    presets = dict(presets or {})
    if family == "keras" and optimizer is None:
        raise BenchError("a Keras model must declare optimizer=... in register_model")
    for preset_name, overrides in presets.items():
        unknown = sorted(set(overrides) - set(config))
        if unknown:
            raise BenchError(
                f"preset {preset_name!r} sets unknown config keys {unknown}; "
                f"declare them in config first (known: {sorted(config)})"
            )

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
        doc = (builder.__doc__ or "").strip().splitlines()
        REGISTRY.add(
            ModelSpec(
                name=builder.__name__,
                family=family,
                build=builder,
                preprocess=preprocess,
                config=MappingProxyType(dict(config)),
                presets=MappingProxyType(
                    {k: MappingProxyType(dict(v)) for k, v in presets.items()}
                ),
                optimizer=optimizer,
                loss=loss,
                description=doc[0] if doc else "",
                reference=reference,
                deterministic=deterministic,
                tuning=tuning,
                min_image_size=min_image_size,
            )
        )
        return builder

    return decorator


def get_model(name: str) -> ModelSpec:
    """Return the registered spec called ``name`` (see :meth:`Registry.get`)."""
    return REGISTRY.get(name)


def list_models(pattern: str = "*") -> list[str]:
    """Return the registered model names matching ``pattern`` (fnmatch wildcards)."""
    return REGISTRY.names(pattern)


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
