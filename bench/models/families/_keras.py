"""The Keras adapter: compile with the spec's optimizer and loss, fit with an epoch recorder."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from bench.tfquiet import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402  (after the quiet TensorFlow import above)

from bench.measure.flops import FlopCount, count_flops  # noqa: E402
from bench.models.family import EpochCallback, FitResult  # noqa: E402
from bench.models.preprocess import one_hot  # noqa: E402
from bench.models.registry import ModelSpec  # noqa: E402

INFERENCE_BATCH = 256
VALIDATION_BATCH = 1024
PREFETCH_BATCHES = 4


def in_memory_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool
) -> tf.data.Dataset:
    """The arrays as in-memory tensors, served in batches of rows gathered by a shuffled index.

    Only the index is shuffled (reshuffled every epoch); each batch is one ``tf.gather`` from
    the ready tensors, prepared ahead by tf.data. Measured here on MNIST: 1.5x faster training
    epochs for a small CNN than handing ``fit`` the NumPy arrays, 1.7x faster than shuffling a
    ``from_tensor_slices`` dataset; the batches are drawn the same way (a fresh permutation
    each epoch).

    tf.data's autotuning is off, with a fixed prefetch of ``PREFETCH_BATCHES``: a gather of a
    few hundred rows needs no tuning, and an autotuned iterator owns a model thread that its
    destructor waits for. Keras opens the next epoch's iterator as each epoch ends and drops
    it when ``fit`` returns; on a busy 2-core machine that wait held ``fit`` for 7-33 s after
    the last epoch in 5 of 12 article CNN runs (a stack dump showed the main thread in
    ``RootDataset::Iterator::~Iterator`` joining that thread), and in none of 8 without it.
    """
    images, labels = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x))
    if shuffle:
        order = order.shuffle(len(x), reshuffle_each_iteration=True)
    batches = order.batch(batch_size).map(
        lambda index: (tf.gather(images, index), tf.gather(labels, index))
    )
    options = tf.data.Options()
    options.autotune.enabled = False
    return batches.prefetch(PREFETCH_BATCHES).with_options(options)


def validation_scores(
    forward: Any, x_val: np.ndarray, y_val: np.ndarray, batch: int = VALIDATION_BATCH
) -> tuple[float, float]:
    """Accuracy and cross-entropy of the compiled ``forward`` pass on the validation images."""
    proba = np.concatenate(
        [np.asarray(forward(x_val[i : i + batch])) for i in range(0, len(x_val), batch)]
    )
    picked = proba[np.arange(len(y_val)), y_val.astype(np.int64)].astype(np.float64)
    loss = float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))
    return float(np.mean(proba.argmax(axis=1) == y_val)), loss


class EpochRecorder(keras.callbacks.Callback):
    """Records per-epoch metrics and checks the validation split several times per epoch.

    Checks (every ``1/checks_per_epoch`` of an epoch and at each epoch's end) run the compiled
    forward pass on the validation images; their time is kept off the training clock. The
    training clock starts at ``start`` (when the adapter began preparing the input), so the
    first epoch includes input setup and graph building; the first epoch's entry also says
    when the first call of the compiled train step returned (``first_step_seconds``) and on
    how many images, so throughput can be measured without graph building. A non-finite
    training loss stops training at the end of that epoch and is the run's failure.
    """

    # Batch hooks run on the main thread between calls of the train function, so a check
    # sees the weights of exactly the steps counted and never trains alongside them. (With
    # ``async_safe = True`` Keras ran them in a worker thread while the next steps trained:
    # checks overlapped training, and their time was subtracted from a clock that kept
    # running.) The cost is Keras reading the step's logs as floats after each call.
    async_safe = False

    def __init__(
        self,
        epochs: int,
        steps_per_epoch: int,
        validate: Any,
        on_epoch: EpochCallback | None,
        batch_size: int,
        start: float,
        checks_per_epoch: int,
    ) -> None:
        super().__init__()
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.validate = validate
        self.on_epoch = on_epoch
        self.batch_size = batch_size
        self.start = start
        self.check_steps = sorted(
            {
                max(1, round(steps_per_epoch * k / checks_per_epoch))
                for k in range(1, checks_per_epoch)
            }
        )
        self.history: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []
        self.failure: str | None = None
        self.check_seconds = 0.0
        self._setup_seconds = 0.0
        self._first_step: tuple[float, int] | None = None
        self._epoch = 0
        self._next_check = 0
        self._epoch_start = start
        self._epoch_check_seconds = 0.0

    def train_clock(self) -> float:
        """Seconds of training so far: wall time since ``start`` minus validation checks."""
        return time.perf_counter() - self.start - self.check_seconds

    def _check(self, fraction: float) -> tuple[float, float]:
        began = time.perf_counter()
        accuracy, loss = self.validate()
        spent = time.perf_counter() - began
        self.check_seconds += spent
        self._epoch_check_seconds += spent
        self.checks.append(
            {
                "epoch_fraction": round(fraction, 4),
                "train_seconds": began - self.start - (self.check_seconds - spent),
                "val_accuracy": accuracy,
                "val_loss": loss,
            }
        )
        return accuracy, loss

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._setup_seconds = time.perf_counter() - self.start

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        self._next_check = 0
        self._epoch_check_seconds = 0.0
        self._epoch_start = self.start if epoch == 0 else time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._first_step is None:  # batch is the last step index of this execution
            self._first_step = (time.perf_counter() - self.start, batch + 1)
        steps_done = batch + 1
        while self._next_check < len(self.check_steps) and (
            steps_done >= self.check_steps[self._next_check]
        ):
            self._next_check += 1
            if steps_done < self.steps_per_epoch:
                self._check(self._epoch + steps_done / self.steps_per_epoch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        train_clock = self.train_clock()
        val_accuracy, val_loss = self._check(epoch + 1.0)
        now = time.perf_counter()
        seconds = now - self._epoch_start
        entry: dict[str, Any] = {
            "epoch": epoch + 1,
            "loss": _as_float(logs.get("loss")),
            "accuracy": _as_float(logs.get("accuracy")),
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "seconds": seconds,
            "train_seconds": seconds - self._epoch_check_seconds,
            "val_seconds": self._epoch_check_seconds,
            "elapsed_train_seconds": train_clock,
            "elapsed_seconds": now - self.start,
        }
        if epoch == 0:
            entry["setup_seconds"] = self._setup_seconds
            if self._first_step is not None:
                entry["first_step_seconds"] = self._first_step[0]
                entry["first_step_samples"] = self._first_step[1] * self.batch_size
        self.history.append(entry)
        if entry["loss"] is None or not math.isfinite(entry["loss"]):
            self.failure = f"training loss became {entry['loss']} in epoch {epoch + 1}"
            self.model.stop_training = True
        if self.on_epoch is not None:
            self.on_epoch({**entry, "epochs": self.epochs})


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


class KerasAdapter:
    """Adapter for a builder that returns an uncompiled ``keras.Model``."""

    inference_method = (
        f"tf.function(model(x, training=False)) in batches of {INFERENCE_BATCH}; "
        "latency: the same compiled call on one image"
    )

    def __init__(
        self,
        spec: ModelSpec,
        config: dict[str, Any],
        input_shape: tuple[int, ...],
        num_classes: int,
    ) -> None:
        self.spec = spec
        self.config = config
        self.num_classes = num_classes
        self.model = spec.build(config, input_shape, num_classes)
        self._forward = tf.function(self._call, reduce_retracing=True)

    def _call(self, x: Any) -> Any:
        return self.model(x, training=False)

    @staticmethod
    def seed_framework(seed: int, deterministic: bool) -> None:
        """Seed Python, NumPy and TensorFlow; optionally make TensorFlow's kernels deterministic."""
        keras.utils.set_random_seed(seed)
        if deterministic:
            tf.config.experimental.enable_op_determinism()

    @staticmethod
    def framework_versions() -> dict[str, str]:
        """The framework versions this adapter trains with."""
        return {"keras": keras.__version__, "tensorflow": tf.__version__, "backend": "tensorflow"}

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        on_epoch: EpochCallback | None = None,
        checks_per_epoch: int = 10,
    ) -> FitResult:
        """Compile and train for ``config['epochs']`` epochs, checking ``(x_val, y_val)``.

        A model may set ``steps_per_execution`` in its config (default 1): that many batches
        run per call of the compiled train function. Validation is not handed to ``fit``:
        the recorder checks it through the compiled forward pass, off the training clock.
        """
        batch_size = int(self.config["batch_size"])
        epochs = int(self.config["epochs"])
        steps_per_epoch = math.ceil(len(x) / batch_size)
        loss = self.spec.loss(self.config) if self.spec.loss else "categorical_crossentropy"
        self.model.compile(
            optimizer=self.spec.optimizer(self.config, steps_per_epoch),
            loss=loss,
            metrics=["accuracy"],
            steps_per_execution=int(self.config.get("steps_per_execution", 1)),
        )
        start = time.perf_counter()
        recorder = EpochRecorder(
            epochs,
            steps_per_epoch,
            lambda: validation_scores(self._forward, x_val, y_val),
            on_epoch,
            batch_size,
            start,
            checks_per_epoch,
        )
        train = in_memory_batches(x, one_hot(y, self.num_classes), batch_size, shuffle=True)
        self.model.fit(
            train,
            epochs=epochs,
            callbacks=[recorder],
            shuffle=False,  # the dataset reshuffles itself every epoch
            verbose=0,
        )
        fit_seconds = time.perf_counter() - start
        return FitResult(
            history=recorder.history,
            checks=recorder.checks,
            train_seconds=fit_seconds - recorder.check_seconds,
            check_seconds=recorder.check_seconds,
            fit_seconds=fit_seconds,
            failure=recorder.failure,
        )

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities through the compiled forward pass, batch by batch."""
        outputs = [
            np.asarray(self._forward(x[i : i + INFERENCE_BATCH]))
            for i in range(0, len(x), INFERENCE_BATCH)
        ]
        return np.concatenate(outputs, axis=0)

    def predict_one(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for a batch of one image through the same compiled call."""
        return np.asarray(self._forward(x))

    def parameter_count(self) -> int:
        """Number of weights in the model (trainable and not)."""
        return int(self.model.count_params())

    def flop_count(self) -> FlopCount:
        """FLOPs per sample of the forward pass (training: 3x), see :mod:`bench.measure.flops`."""
        return count_flops(self.model)
