"""scikit-learn estimators: one ``fit`` call, recorded as one "epoch" with its solver iterations."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss

from bench.adapters import EpochCallback, FitResult
from bench.registry import ModelSpec

# Training rows scored after fit for the history's loss and accuracy. Scoring all of them
# cost k-NN (brute force) as much as six passes over the 10,000 test images.
TRAIN_SCORE_LIMIT = 10_000


class SklearnAdapter:
    """Adapter for a builder that returns an unfitted estimator with ``predict_proba``."""

    inference_method = "estimator.predict_proba on the whole array; latency: one row per call"

    def __init__(
        self,
        spec: ModelSpec,
        config: dict[str, Any],
        input_shape: tuple[int, ...],
        num_classes: int,
        seed: int | None = None,
    ) -> None:
        self.spec = spec
        self.config = config
        self.num_classes = num_classes
        self.estimator = spec.build(config, input_shape, num_classes)
        if seed is not None:
            seed_estimator(self.estimator, seed)
        if not hasattr(self.estimator, "predict_proba"):
            raise TypeError(
                f"model {spec.name!r}: {type(self.estimator).__name__} has no predict_proba; "
                "choose an estimator that gives class probabilities"
            )

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        on_epoch: EpochCallback | None = None,
    ) -> FitResult:
        """Fit once; the history entry records solver iterations and whether it converged.

        Training loss and accuracy are measured on at most ``TRAIN_SCORE_LIMIT`` training
        rows (``train_scored`` says how many).
        """
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.estimator.fit(x, y)
        fit_seconds = time.perf_counter() - start
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        labels = list(range(self.num_classes))
        scored = training_rows_to_score(len(x))
        train_proba = self.predict_proba(x[scored])
        val_proba = self.predict_proba(x_val)
        entry = {
            "epoch": 1,
            "iterations": _iterations(self.estimator),
            "converged": converged,
            "loss": float(log_loss(y[scored], train_proba, labels=labels)),
            "accuracy": float(accuracy_score(y[scored], train_proba.argmax(axis=1))),
            "train_scored": int(len(scored)),
            "val_loss": float(log_loss(y_val, val_proba, labels=labels)),
            "val_accuracy": float(accuracy_score(y_val, val_proba.argmax(axis=1))),
            "seconds": fit_seconds,
            "train_seconds": fit_seconds,
            "val_seconds": 0.0,
            "elapsed_train_seconds": fit_seconds,
            "elapsed_seconds": fit_seconds,
        }
        if on_epoch is not None:
            on_epoch({**entry, "epochs": 1})
        return FitResult(history=[entry], fit_seconds=fit_seconds)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities with one column per class, even for classes never seen in fit."""
        proba = self.estimator.predict_proba(x)
        classes = getattr(self.estimator, "classes_", np.arange(proba.shape[1]))
        if len(classes) == self.num_classes:
            return proba
        full = np.zeros((len(x), self.num_classes), dtype=proba.dtype)
        full[:, np.asarray(classes, dtype=int)] = proba
        return full

    def predict_one(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for a single row."""
        return self.estimator.predict_proba(x)

    def parameter_count(self) -> int | None:
        """Learned numbers of the fitted estimator (coefficients and intercepts), if it has any."""
        arrays = []
        for name in ("coef_", "intercept_", "coefs_", "intercepts_"):
            value = getattr(self.estimator, name, None)
            if value is None:
                continue
            arrays.extend(value if isinstance(value, list) else [value])
        return int(sum(np.size(a) for a in arrays)) if arrays else None

    def flop_count(self) -> None:
        """Not counted: an estimator's solver work is not a multiple of a forward pass."""
        return None


def training_rows_to_score(n: int, limit: int | None = None) -> np.ndarray:
    """Indices of at most ``limit`` (default ``TRAIN_SCORE_LIMIT``) of ``n`` rows, evenly spaced."""
    limit = TRAIN_SCORE_LIMIT if limit is None else limit
    if n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, num=limit).round().astype(np.int64)


def seed_estimator(estimator: Any, seed: int) -> None:
    """Set every ``random_state`` the builder left unset (nested ones too) to ``seed``.

    A ``random_state`` the builder fixed is kept; objects without ``get_params`` are left
    alone.
    """
    if not hasattr(estimator, "get_params"):
        return
    unset = {
        key: seed
        for key, value in estimator.get_params(deep=True).items()
        if key.split("__")[-1] == "random_state" and value is None
    }
    if unset:
        estimator.set_params(**unset)


def _iterations(estimator: Any) -> int | None:
    n_iter = getattr(estimator, "n_iter_", None)
    return None if n_iter is None else int(np.max(n_iter))
