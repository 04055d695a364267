"""The Keras adapter: compile with the spec's optimizer and loss, fit with an epoch recorder.

The same adapter serves every Keras 3 backend this process's Keras runs on (fixed at its first
import); what differs per backend lives in :mod:`._keras_backends`.
"""

from __future__ import annotations

import importlib.util
import math
import random
import time
from typing import Any

import numpy as np

from bench.core.backend import process_backend
from bench.core.randomness import RunRandom
from bench.core.tfquiet import import_tensorflow
from bench.models.families._keras_backends import (
    KerasBackend,
    current_backend,
    in_memory_batches,
)

if process_backend() == "tensorflow":  # quiet TensorFlow's start-up lines before Keras loads it
    import_tensorflow()
import keras  # noqa: E402  (after the quiet TensorFlow import above)

from bench.measure.flops import FlopCount, count_flops  # noqa: E402
from bench.models.families._keras_files import (  # noqa: E402
    export_keras_onnx,
    load_keras,
    save_keras,
)
from bench.models.families._recorder import (  # noqa: E402
    VALIDATION_BATCH,
    FitRecorder,
    validation_scores,
)
from bench.models.family import EpochCallback, FitControl, FitResult  # noqa: E402
from bench.models.portable import OnnxExport, SavedFiles  # noqa: E402
from bench.models.spec import ModelSpec  # noqa: E402

__all__ = ["EpochRecorder", "KerasAdapter", "forward_scores", "in_memory_batches"]

INFERENCE_BATCH = 256


def forward_scores(
    forward: Any, x_val: np.ndarray, y_val: np.ndarray, batch: int = VALIDATION_BATCH
) -> tuple[float, float]:
    """Accuracy and cross-entropy of the compiled ``forward`` pass on the validation images."""
    proba = np.concatenate(
        [np.asarray(forward(x_val[i : i + batch])) for i in range(0, len(x_val), batch)]
    )
    return validation_scores(proba, y_val)


def give_keras_its_own_seed_stream(seed: int) -> None:
    """Make Keras draw the seeds of layers built without one from a ``random.Random(seed)``
    of its own, not from Python's global ``random``.

    Keras 3 seeds every unseeded initializer and dropout layer with
    ``random.randint(1, 10**9)`` on the global generator. Other threads of the process draw
    from that generator too: a Dask worker's event loop does (measured here: after
    ``random.seed(0)`` and 3 idle seconds in a worker, the next draw was never the seeded
    one), so the same run built different initial weights on a worker from one time to the
    next. The private stream starts where ``random.seed(seed)`` would, so a run in a quiet
    process gives the same weights as before. Keras keeps the stream in one module attribute
    (``keras.src.random.seed_generator.python_random``); if a Keras release moves it, this
    fails loudly rather than going back to the shared stream without a word."""
    from keras.src.random import seed_generator

    if not hasattr(seed_generator, "python_random"):
        raise RuntimeError(
            "this Keras release no longer draws default seeds from "
            "keras.src.random.seed_generator.python_random; update "
            "give_keras_its_own_seed_stream in bench/models/families/_keras.py"
        )
    seed_generator.python_random = random.Random(seed)


class EpochRecorder(keras.callbacks.Callback):
    """Keras callback that reports ``fit``'s progress to a :class:`FitRecorder`.

    Keras calls ``on_train_batch_end`` once per call of the compiled train step, with the
    index of the last batch that call ran. Before a mid-epoch check the callback reads
    ``self.model``, which on JAX writes the trainer's current weights back into the model.
    A non-finite training loss stops training at the end of that epoch.

    The hooks run in line (``async_safe = False``) on every backend, so a check sees the
    weights of exactly the steps counted: on JAX a hook that syncs the weights while the
    trainer has moved on leaves the model holding donated (deleted) buffers, and on PyTorch a
    check would read weights in the middle of an update. The cost is Keras reading the step's
    logs after each call of the train function.
    """

    def __init__(self, recorder: FitRecorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.async_safe = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.recorder.training_began()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.recorder.epoch_began(epoch)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.recorder.steps_finished(batch + 1, before_check=self._sync_weights)
        if self.recorder.stopped:  # a tuning trial pruned or at its cap: Keras stops mid-epoch
            self.model.stop_training = True

    def _sync_weights(self) -> None:
        _ = self.model  # the property syncs JAX's training state into the model's variables

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self._sync_weights()
        loss, accuracy = _as_float(logs.get("loss")), _as_float(logs.get("accuracy"))
        self.recorder.epoch_ended(epoch, loss, accuracy)
        if self.recorder.failure:
            self.model.stop_training = True


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


class KerasAdapter:
    """Adapter for a builder that returns an uncompiled ``keras.Model``, on this process's
    Keras backend."""

    def __init__(
        self,
        spec: ModelSpec,
        config: dict[str, Any],
        input_shape: tuple[int, ...],
        num_classes: int,
        rng: RunRandom,
    ) -> None:
        del rng  # Keras draws from the generators its seed_framework seeded (batch order too)
        self.spec = spec
        self.config = config
        self.num_classes = num_classes
        self.backend: KerasBackend = current_backend()
        self.model = spec.build(config, input_shape, num_classes)
        self._forward = self.backend.forward(self.model)
        self.inference_method = (
            f"{self.backend.inference_method} in batches of {INFERENCE_BATCH}; "
            "latency: the same call on one image"
        )

    @staticmethod
    def seed_framework(seed: int, deterministic: bool) -> None:
        """Seed Python, NumPy and the backend; optionally make the backend's kernels
        deterministic (TensorFlow op determinism; PyTorch deterministic algorithms; nothing
        to switch on JAX's CPU kernels).

        Keras seeds TensorFlow's generator too, on every backend (``tf.data`` pipelines may
        shuffle), importing TensorFlow where it is installed: it is imported here first,
        with its start-up lines silenced."""
        if importlib.util.find_spec("tensorflow") is not None:
            import_tensorflow()
        keras.utils.set_random_seed(seed)
        give_keras_its_own_seed_stream(seed)
        if deterministic:
            current_backend().make_deterministic()

    @staticmethod
    def framework_versions() -> dict[str, str]:
        """Keras's version, the backend it runs on, and the backend library's versions."""
        backend = current_backend()
        return {"keras": keras.__version__, "backend": backend.name, **backend.versions()}

    def runtime_info(self) -> dict[str, Any]:
        """How this adapter feeds and calls the model on its backend (for the record)."""
        return {"input_pipeline": self.backend.input_method}

    def matmul_peak(self, dtype: str) -> dict[str, Any]:
        """The machine's matmul peak, measured with the backend's own library."""
        return self.backend.matmul_peak(dtype)

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
        """Compile and train for ``config['epochs']`` epochs, checking ``(x_val, y_val)``;
        a ``control`` (tuning) may stop training early (see :class:`FitRecorder`).

        A model may set ``steps_per_execution`` in its config (default 1): that many batches
        run per call of the compiled train function (where the backend allows; see
        :mod:`._keras_backends`). Validation is not handed to ``fit``: the recorder checks it
        through the compiled forward pass, off the training clock.
        """
        batch_size = int(self.config["batch_size"])
        epochs = int(self.config["epochs"])
        steps_per_epoch = math.ceil(len(x) / batch_size)
        loss = self.spec.loss(self.config) if self.spec.loss else "categorical_crossentropy"
        optimizer = self.spec.optimizer
        assert optimizer is not None  # the keras family requires it (register_model checks)
        steps, note = self.backend.steps_per_execution(
            int(self.config.get("steps_per_execution", 1))
        )
        notes = [note] if note else []
        self.model.compile(
            optimizer=optimizer(self.config, steps_per_epoch),
            loss=loss,
            metrics=["accuracy"],
            steps_per_execution=steps,
        )
        start = time.perf_counter()
        recorder = FitRecorder(
            epochs,
            steps_per_epoch,
            lambda: forward_scores(self._forward, x_val, y_val),
            on_epoch,
            batch_size,
            start,
            checks_per_epoch,
            control,
        )
        train = self.backend.fit_input(x, y, self.num_classes, batch_size)
        self.model.fit(
            **{"shuffle": False, **train},  # tf.data reshuffles itself every epoch
            epochs=epochs,
            callbacks=[EpochRecorder(recorder)],
            verbose=0,
        )
        fit_seconds = time.perf_counter() - start
        return recorder.result(fit_seconds, notes)

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

    # --- keeping the model (--save-model; see :mod:`._keras_files`) -------------------------

    def save_model(self) -> SavedFiles:
        """The trained model as a ``.keras`` archive."""
        return save_keras(self.model, self.spec.build)

    def restore_model(self, files: dict[str, bytes]) -> None:
        """Replace the model with the one saved in ``files`` (from :meth:`save_model`)."""
        self.model = load_keras(files, self.spec.build)
        self._forward = self.backend.forward(self.model)

    def export_onnx(self, sample: np.ndarray) -> OnnxExport:
        """The model as ONNX (images in, probabilities out), from this process's backend."""
        return export_keras_onnx(self.model, self.backend.name)
