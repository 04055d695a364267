"""One small interface over the model families, so the trainer never branches on a family.

An adapter wraps one built model and offers ``fit``, ``predict_proba``, a whole-array
predictor and a single-image predictor for timing, and its parameter count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from bench.flops import FlopCount
from bench.registry import ModelSpec

EpochCallback = Any  # Callable[[dict[str, Any]], None]; kept loose for plugins


@dataclass
class FitResult:
    """What training produced: per-epoch history, total wall time, and a failure if any."""

    history: list[dict[str, Any]] = field(default_factory=list)
    fit_seconds: float = 0.0
    failure: str | None = None


class Adapter(Protocol):
    """The interface the trainer uses for every family."""

    inference_method: str

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        on_epoch: EpochCallback | None = None,
    ) -> FitResult: ...

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...

    def predict_one(self, x: np.ndarray) -> np.ndarray: ...

    def parameter_count(self) -> int | None: ...

    def flop_count(self) -> FlopCount | None: ...


def make_adapter(
    spec: ModelSpec,
    config: dict[str, Any],
    input_shape: tuple[int, ...],
    num_classes: int,
    seed: int | None = None,
) -> Adapter:
    """Build ``spec``'s model and wrap it in the adapter of its family.

    ``seed`` reaches scikit-learn estimators as their ``random_state`` (Keras models are
    seeded through the backend by the trainer).
    """
    if spec.family == "keras":
        from bench.adapters.keras_adapter import KerasAdapter

        return KerasAdapter(spec, config, input_shape, num_classes)
    if spec.family == "sklearn":
        from bench.adapters.sklearn_adapter import SklearnAdapter

        return SklearnAdapter(spec, config, input_shape, num_classes, seed=seed)
    raise ValueError(f"model {spec.name!r} has unknown family {spec.family!r}")


def count_parameters(
    spec: ModelSpec, config: dict[str, Any], image_shape: tuple[int, int], num_classes: int
) -> int | None:
    """Parameter count of ``spec``'s model for images of ``image_shape``.

    Keras models are built and counted; a scikit-learn estimator only has parameters once
    fitted, so it is fitted on one blank image per class (enough to fix its shapes). None when
    the estimator has no coefficients to count (k-NN, forests, kernel SVMs) or cannot be fitted
    on so few images (a PCA to more components than images).
    """
    images = np.zeros((num_classes, *image_shape), dtype=np.uint8)
    images[np.arange(num_classes), 0, 0] = np.arange(num_classes) * 20
    inputs = spec.preprocess(images)
    adapter = make_adapter(spec, config, tuple(inputs.shape[1:]), num_classes)
    if spec.family == "sklearn":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                adapter.estimator.fit(inputs, np.arange(num_classes))
            except ValueError:
                return None
    return adapter.parameter_count()
