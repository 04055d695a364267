"""scikit-learn estimators: one ``fit`` call, recorded as one "epoch" with its solver iterations."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss

from bench.core.randomness import RunRandom
from bench.models.families._sklearn_files import (
    export_sklearn_onnx,
    feature_count,
    load_sklearn,
    save_sklearn,
)
from bench.models.family import EpochCallback, FitControl, FitResult, HistoryEntry
from bench.models.portable import OnnxExport, SavedFiles
from bench.models.spec import ModelSpec

# Training rows scored after the fit for the history's loss and accuracy: scoring all of them
# cost k-NN (brute force) as much as six passes over the 10,000 test images.
TRAIN_SCORE_LIMIT = 10_000
# A tuning trial (fit with a control) scores fewer: its training loss is shown, never used.
TRIAL_SCORE_LIMIT = 1_000


class SklearnAdapter:
    """Adapter for a builder that returns an unfitted estimator with ``predict_proba``."""

    inference_method = "estimator.predict_proba on the whole array; latency: one row per call"

    def __init__(
        self,
        spec: ModelSpec,
        config: dict[str, Any],
        input_shape: tuple[int, ...],
        num_classes: int,
        rng: RunRandom,
    ) -> None:
        self.spec = spec
        self.config = config
        self.num_classes = num_classes
        self.input_shape = input_shape
        self.estimator = spec.build(config, input_shape, num_classes)
        seed_estimator(self.estimator, rng)
        if not hasattr(self.estimator, "predict_proba"):
            raise TypeError(
                f"model {spec.name!r}: {type(self.estimator).__name__} has no predict_proba; "
                "choose an estimator that gives class probabilities"
            )

    @staticmethod
    def seed_framework(seed: int, deterministic: bool) -> None:
        """Nothing: estimators take their seeds from the run's generators (``seed_estimator``)."""

    @staticmethod
    def framework_versions() -> dict[str, str]:
        """The scikit-learn version this adapter fits with."""
        import sklearn

        return {"scikit-learn": sklearn.__version__}

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        on_epoch: EpochCallback | None = None,
        checks_per_epoch: int = 10,
        *,
        control: FitControl | None = None,
    ) -> FitResult:
        """Fit once; the one "epoch" records solver iterations and whether it converged.

        One ``fit`` call cannot be stopped part-way: with a ``control`` (tuning), an ensemble
        that can grow (``warm_start`` and ``n_estimators``, such as a random forest) is grown in
        ``GROWTH_CHUNKS`` steps instead, checked, pruned and capped between them (the trees are
        the same as one fit's: scikit-learn draws their seeds as one fit would); any other
        estimator fits once, and a fit past its cap is flagged by the trainer, not cut.

        Training loss and accuracy are measured on at most ``TRAIN_SCORE_LIMIT`` evenly
        spaced training rows (``train_scored`` says how many).

        The validation split is scored once, after the fit (an estimator has no earlier
        state to check), off the training clock.
        """
        if control is not None and grows_in_steps(self.estimator):
            return self._grow(x, y, x_val, y_val, on_epoch, control)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.estimator.fit(x, y)
        fit_seconds = time.perf_counter() - start
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        iterations = _iterations(self.estimator)
        labels = list(range(self.num_classes))
        check_start = time.perf_counter()
        scored = training_rows_to_score(len(x), TRIAL_SCORE_LIMIT if control else None)
        train_proba = self.predict_proba(x[scored])
        val_proba = self.predict_proba(x_val)
        val_accuracy = float(accuracy_score(y_val, val_proba.argmax(axis=1)))
        val_loss = float(log_loss(y_val, val_proba, labels=labels))
        check_seconds = time.perf_counter() - check_start
        entry = HistoryEntry(
            epoch=1,
            iterations=iterations,
            converged=converged,
            loss=float(log_loss(y[scored], train_proba, labels=labels)),
            accuracy=float(accuracy_score(y[scored], train_proba.argmax(axis=1))),
            train_scored=int(len(scored)),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            seconds=fit_seconds + check_seconds,
            train_seconds=fit_seconds,
            val_seconds=check_seconds,
            elapsed_train_seconds=fit_seconds,
            elapsed_seconds=fit_seconds + check_seconds,
        )
        if on_epoch is not None:
            on_epoch({**entry.to_dict(), "epochs": 1})
        notes = []
        if not converged:
            notes.append(
                f"{type(self.estimator).__name__} did not converge"
                + (f" in {iterations} iterations" if iterations is not None else "")
                + " (scikit-learn ConvergenceWarning)"
            )
        check = {
            "epoch_fraction": 1.0,
            "train_seconds": fit_seconds,
            "val_accuracy": val_accuracy,
            "val_loss": val_loss,
        }
        return FitResult(
            history=[entry],
            checks=[check],
            train_seconds=fit_seconds,
            check_seconds=check_seconds,
            fit_seconds=fit_seconds + check_seconds,
            notes=notes,
        )

    def _grow(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        on_epoch: EpochCallback | None,
        control: FitControl,
    ) -> FitResult:
        """Grow the ensemble to its ``n_estimators`` in steps, through a :class:`FitRecorder`
        (one "epoch" of ``GROWTH_CHUNKS`` steps) that checks, prunes and caps it."""
        from bench.models.families._recorder import FitRecorder

        labels = list(range(self.num_classes))

        def validate() -> tuple[float, float]:
            proba = self.predict_proba(x_val)
            accuracy = float(accuracy_score(y_val, proba.argmax(axis=1)))
            return accuracy, float(log_loss(y_val, proba, labels=labels))

        total = int(self.estimator.n_estimators)
        sizes = sorted(
            {max(1, round(total * k / GROWTH_CHUNKS)) for k in range(1, GROWTH_CHUNKS + 1)}
        )
        start = time.perf_counter()
        recorder = FitRecorder(
            1, len(sizes), validate, on_epoch, max(1, len(x) // len(sizes)), start, 1, control
        )
        self.estimator.set_params(warm_start=True)
        recorder.training_began()
        recorder.epoch_began(0)
        for step, size in enumerate(sizes, start=1):
            self.estimator.set_params(n_estimators=size)
            self.estimator.fit(x, y)
            recorder.steps_finished(step)
            if recorder.stopped:
                break
        scoring = time.perf_counter()
        scored = training_rows_to_score(len(x), TRIAL_SCORE_LIMIT if control else None)
        train_proba = self.predict_proba(x[scored])
        # scoring the training rows is evaluation: off the training clock, as after one fit
        recorder.check_seconds += time.perf_counter() - scoring
        recorder.epoch_ended(
            0,
            float(log_loss(y[scored], train_proba, labels=labels)),
            float(accuracy_score(y[scored], train_proba.argmax(axis=1))),
        )
        fit_seconds = time.perf_counter() - start
        return recorder.result(fit_seconds)

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
        """Learned numbers (coefficients and intercepts) of the fitted estimator, if it has any.

        An estimator not fitted yet is counted on a clone fitted to one blank image per class,
        which is enough to fix the shapes of its coefficients.
        """
        if not hasattr(self.estimator, "classes_"):
            try:
                fitted = _fitted_on_blanks(self.estimator, self.input_shape, self.num_classes)
            except (ValueError, TypeError):  # a PCA to more components than blank images,
                return None  # or a wrapper that scikit-learn cannot clone
            return _learned_numbers(fitted)
        return _learned_numbers(self.estimator)

    def flop_count(self) -> None:
        """Not counted: an estimator's solver work is not a multiple of a forward pass."""
        return None

    # --- keeping the model (--save-model; see :mod:`._sklearn_files`) -----------------------

    def save_model(self) -> SavedFiles:
        """The fitted estimator in skops's format."""
        return save_sklearn(self.estimator)

    def restore_model(self, files: dict[str, bytes]) -> None:
        """Replace the estimator with the fitted one saved in ``files`` (trusted types only)."""
        self.estimator = load_sklearn(files, self.spec.build)

    def export_onnx(self, sample: np.ndarray) -> OnnxExport:
        """The estimator as ONNX through skl2onnx, where it has a converter."""
        return export_sklearn_onnx(self.estimator, feature_count(self.input_shape))


GROWTH_CHUNKS = 10


def grows_in_steps(estimator: Any) -> bool:
    """True for an ensemble scikit-learn can grow tree by tree (``warm_start`` and
    ``n_estimators``), such as a random forest."""
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    return "warm_start" in params and int(params.get("n_estimators") or 0) >= 2


def _iterations(estimator: Any) -> int | None:
    n_iter = getattr(estimator, "n_iter_", None)
    return None if n_iter is None else int(np.max(n_iter))


def _learned_numbers(estimator: Any) -> int | None:
    arrays = []
    for name in ("coef_", "intercept_", "coefs_", "intercepts_"):
        value = getattr(estimator, name, None)
        if value is None:
            continue
        arrays.extend(value if isinstance(value, list) else [value])
    return int(sum(np.size(a) for a in arrays)) if arrays else None


def _fitted_on_blanks(estimator: Any, input_shape: tuple[int, ...], num_classes: int) -> Any:
    from sklearn.base import clone

    x = np.zeros((num_classes, *input_shape), dtype=np.float32)
    x.reshape(num_classes, -1)[np.arange(num_classes), 0] = np.arange(num_classes) / num_classes
    fitted = clone(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted.fit(x, np.arange(num_classes))
    return fitted


def training_rows_to_score(n: int, limit: int | None = None) -> np.ndarray:
    """Indices of at most ``limit`` (default ``TRAIN_SCORE_LIMIT``) of ``n`` rows, evenly
    spaced."""
    limit = TRAIN_SCORE_LIMIT if limit is None else limit
    if n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, num=limit).round().astype(np.int64)


def seed_estimator(estimator: Any, rng: RunRandom) -> None:
    """Give every ``random_state`` the builder left unset (nested ones too) one value drawn
    from the run's NumPy Generator: seed k gives the same fit every time, and different seeds
    give different fits. Objects without scikit-learn's ``get_params`` are left alone."""
    if not hasattr(estimator, "get_params"):
        return
    unset = [
        key
        for key, value in estimator.get_params(deep=True).items()
        if key.split("__")[-1] == "random_state" and value is None
    ]
    if unset:
        state = rng.draw_seed()
        estimator.set_params(**dict.fromkeys(unset, state))
