"""What a registered model is: :class:`ModelSpec`, and the published result it may reproduce.

Kept apart from the registry so that the family registry, the adapters and the registry itself
can all name the spec without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.core.spec import DEFAULT_PRESET
from bench.models.params import Param
from bench.models.space import Space


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
