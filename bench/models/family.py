"""Model families: one adapter interface over every framework, found through a registry.

A family is one module in :mod:`bench.models.families` that registers a loader with
:func:`register_family`; the loader imports the framework and returns the adapter class, so
the framework is imported only when a model of that family is built. The trainer talks to
every model through the :class:`Adapter` interface and never asks which family it is.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from bench.core.randomness import RunRandom
from bench.core.registry import Registry, discover
from bench.measure.flops import FlopCount
from bench.models.params import Param

if TYPE_CHECKING:
    from bench.core.spec import RunSpec
    from bench.models.spec import ModelSpec

EpochCallback = Callable[[dict[str, Any]], None]
Preflight = Callable[["ModelSpec", "RunSpec"], list[str]]
FAMILIES_PACKAGE = "bench.models.families"


@dataclass(frozen=True)
class HistoryEntry:
    """One epoch of training, as every family records it.

    Losses and accuracies are means over the epoch (training) and over the validation split
    (``val_``); ``loss`` and ``accuracy`` are None where the loop did not measure them.
    ``seconds`` is the epoch's wall time, ``train_seconds`` and ``val_seconds`` its split into
    training and validation checks, ``elapsed_*`` the clocks since training began. The first
    epoch of a loop also says how long setup took (``setup_seconds``) and when its first
    step returned (``first_step_seconds``, ``first_step_samples``); a scikit-learn fit says
    its solver's ``iterations``, whether it ``converged``, and on how many training rows its
    loss and accuracy were measured (``train_scored``). A tuning trial's last epoch says why
    it stopped early (``stopped``: ``"pruned"`` or ``"budget"``) and after how many epochs
    (``stopped_at_epochs``, a fraction).
    """

    epoch: int
    loss: float | None
    accuracy: float | None
    val_loss: float
    val_accuracy: float
    seconds: float
    train_seconds: float
    val_seconds: float
    elapsed_train_seconds: float
    elapsed_seconds: float
    setup_seconds: float | None = None
    first_step_seconds: float | None = None
    first_step_samples: int | None = None
    iterations: int | None = None
    converged: bool | None = None
    train_scored: int | None = None
    stopped: str | None = None
    stopped_at_epochs: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record's form: the optional fields only where they were measured."""
        optional = {f.name for f in fields(self) if f.default is None}
        return {
            key: value
            for key, value in asdict(self).items()
            if value is not None or key not in optional
        }


@dataclass
class FitResult:
    """What training produced.

    ``history`` has one :class:`HistoryEntry` per epoch; ``checks`` the validation checks made
    during training (several per epoch, off the training clock) for time-to-accuracy; ``notes``
    anything worth showing (a solver that did not converge); ``failure`` why training stopped.
    """

    history: list[HistoryEntry] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0
    check_seconds: float = 0.0
    fit_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    failure: str | None = None


class FitControl(Protocol):
    """Steers a fit from outside (``bench tune``): a cap on training seconds, and a verdict on
    the validation accuracy at fixed shares of that cap.

    The recorder checks the validation split when the training clock passes each
    ``k * budget_seconds / milestones`` (k = 1..milestones) and calls :meth:`report` with k;
    a True answer stops training there (pruned). At ``budget_seconds`` training stops and is
    scored at that point. ``stop_at_epochs`` (when not None) stops training once that many
    epochs (a fraction: 2.5 is halfway through the third) have run: how a tuned preset
    replays exactly the training its best trial had inside its budget.
    """

    budget_seconds: float
    milestones: int
    stop_at_epochs: float | None

    def report(self, step: int, value: float) -> bool:
        """Note validation accuracy ``value`` at milestone ``step``; True to stop (prune)."""
        ...


class Adapter(Protocol):
    """The interface the trainer uses for every family.

    ``fit`` may also take a keyword ``control`` (a :class:`FitControl`), which the trainer
    passes only for tuning trials; an adapter without it cannot be tuned.
    """

    inference_method: str

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        on_epoch: EpochCallback | None = None,
        checks_per_epoch: int = 10,
    ) -> FitResult: ...

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...

    def predict_one(self, x: np.ndarray) -> np.ndarray: ...

    def parameter_count(self) -> int | None: ...

    def flop_count(self) -> FlopCount | None: ...


class AdapterClass(Protocol):
    """What a family's loader returns: the adapter's constructor and its seeding hook.

    The constructor gets the run's own generators (``rng``) and draws every random number the
    harness chooses from them; ``seed_framework`` seeds only what the framework keeps global
    for its own kernels and initial weights (see :mod:`bench.core.randomness`).
    """

    def __call__(
        self,
        spec: ModelSpec,
        config: dict[str, Any],
        input_shape: tuple[int, ...],
        num_classes: int,
        rng: RunRandom,
    ) -> Adapter: ...

    @staticmethod
    def seed_framework(seed: int, deterministic: bool) -> None: ...

    @staticmethod
    def framework_versions() -> dict[str, str]: ...


@dataclass(frozen=True)
class FamilyEntry:
    """One registered family: its loader and the ModelSpec fields its models must declare.

    ``backends`` are the Keras backends its models can run on (``--backend``; empty for a
    family that is not Keras). ``defaults`` are config keys every model of the family has
    unless it declares them itself (such as ``device``). ``framework`` is the module the family
    needs (``"torch"``). ``preflight(spec, run)`` returns the
    problems that would make a run fail, checked before any training (cheaply: it must not
    import the framework unless the run needs something only the framework can tell).
    """

    name: str
    load: Callable[[], AdapterClass]
    requires: tuple[str, ...] = ()
    description: str = ""
    config_rules: Mapping[str, Param] = field(default_factory=dict)
    backends: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    preflight: Preflight | None = None
    framework: str | None = None

    def installed(self) -> bool:
        """True when the family's framework (an importable module) is installed here; nothing
        is imported."""
        return self.framework is None or importlib.util.find_spec(self.framework) is not None

    def missing(self, declared: Mapping[str, Any]) -> list[str]:
        """What a registration with ``declared`` keyword arguments lacks for this family."""
        return [
            f"a {self.name} model must declare {name}=... in register_model"
            for name in self.requires
            if declared.get(name) is None
        ]


FAMILIES: Registry[FamilyEntry] = Registry("model family")
FAMILIES.add_loader(discover(FAMILIES_PACKAGE, "mnist_bench.families"))


def register_family(
    name: str,
    *,
    requires: tuple[str, ...] = (),
    config_rules: Mapping[str, Param] | None = None,
    description: str = "",
    backends: tuple[str, ...] = (),
    defaults: Mapping[str, Any] | None = None,
    preflight: Preflight | None = None,
    framework: str | None = None,
) -> Callable[[Callable[[], AdapterClass]], Callable[[], AdapterClass]]:
    """Decorator for a family's loader: ``@register_family("keras", requires=("optimizer",))``.

    ``config_rules`` are the ranges of the config keys the family's adapter reads; see
    :class:`FamilyEntry` for ``backends``, ``defaults`` and ``preflight``; ``framework`` is the
    module the family needs (``"torch"``), for ``--all`` to leave out what is not installed.
    """

    def decorator(load: Callable[[], AdapterClass]) -> Callable[[], AdapterClass]:
        entry = FamilyEntry(
            name,
            load,
            requires,
            description or load.__doc__ or "",
            dict(config_rules or {}),
            tuple(backends),
            dict(defaults or {}),
            preflight,
            framework,
        )
        FAMILIES.add(name, entry)
        return load

    return decorator


def adapter_class(spec: ModelSpec) -> AdapterClass:
    """The adapter class of ``spec``'s family (imports that family's framework)."""
    return FAMILIES.get(spec.family).load()


def make_adapter(
    spec: ModelSpec,
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_classes: int,
    seed: int = 0,
) -> Adapter:
    """Build ``spec``'s model and wrap it in the adapter of its family, with the generators
    of ``seed``."""
    return adapter_class(spec)(spec, config, input_shape, num_classes, RunRandom.from_seed(seed))


def count_parameters(
    spec: ModelSpec, config: dict[str, Any], image_shape: tuple[int, int], num_classes: int
) -> int | None:
    """Parameter count of ``spec``'s model for images of ``image_shape`` (builds the model)."""
    images = np.zeros((num_classes, *image_shape), dtype=np.uint8)
    inputs = spec.preprocess(images)
    return make_adapter(spec, config, tuple(inputs.shape[1:]), num_classes).parameter_count()
