"""What differs between Keras 3's backends for the Keras adapter, one class per backend.

The model code, optimizer, loss and ``fit`` loop are Keras's own on every backend; what the
adapter chooses per backend is how training batches are served, how the compiled forward pass
(validation checks, inference, latency) is called, how the backend is seeded and made
deterministic, which versions are recorded, and how the machine's matmul peak is probed (in
the backend's own library, so a jax or torch run never loads TensorFlow).

* tensorflow: batches gathered from in-memory tensors by ``tf.data``; forward pass
  ``tf.function(model(x, training=False))``.
* jax: NumPy arrays handed to ``fit`` (Keras's array adapter, reshuffled every epoch); forward
  pass ``jax.jit`` of ``model.stateless_call`` with the current weights.
* torch: NumPy arrays handed to ``fit``; forward pass ``model(x, training=False)`` under
  ``torch.inference_mode()``. Keras's torch trainer runs one batch per call: a model's
  ``steps_per_execution`` above 1 (which changes only how batches are dispatched, not what is
  computed) is run as 1 there, and the record's notes say so.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.models.preprocess import one_hot

Forward = Callable[[np.ndarray], np.ndarray]


class TensorflowBackend:
    """Keras on TensorFlow: the harness's reference backend."""

    name = "tensorflow"
    inference_method = "tf.function(model(x, training=False))"
    input_method = "tf.data gathers batches from in-memory tensors by a reshuffled index"

    def __init__(self) -> None:
        from bench.core.tfquiet import import_tensorflow

        self.tf = import_tensorflow()

    def forward(self, model: Any) -> Forward:
        """The compiled inference call, returning NumPy probabilities."""
        compiled = self.tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        return lambda x: np.asarray(compiled(x))

    def fit_input(
        self, x: np.ndarray, y: np.ndarray, num_classes: int, batch_size: int
    ) -> dict[str, Any]:
        """Arguments for ``model.fit`` that serve shuffled batches of ``(x, one-hot y)``."""
        return {"x": in_memory_batches(x, one_hot(y, num_classes), batch_size, shuffle=True)}

    def steps_per_execution(self, requested: int) -> tuple[int, str | None]:
        """Batches per call of the compiled train step, and a note if it differs."""
        return requested, None

    def make_deterministic(self) -> None:
        """Deterministic TensorFlow kernels (set before any op runs; cannot be undone)."""
        self.tf.config.experimental.enable_op_determinism()

    def versions(self) -> dict[str, str]:
        """The backend library's version."""
        return {"tensorflow": self.tf.__version__}

    def matmul_peak(self, dtype: str) -> dict[str, Any]:
        """The machine's matmul peak measured with TensorFlow (see :mod:`bench.measure.peak`)."""
        from bench.measure.peak import matmul_peak

        return matmul_peak(dtype)


class ArrayInputBackend:
    """Backends whose ``fit`` takes the NumPy arrays (Keras's own array adapter)."""

    def fit_input(
        self, x: np.ndarray, y: np.ndarray, num_classes: int, batch_size: int
    ) -> dict[str, Any]:
        """Arguments for ``model.fit``: the arrays, batch size, a fresh shuffle every epoch."""
        return {"x": x, "y": one_hot(y, num_classes), "batch_size": batch_size, "shuffle": True}


class JaxBackend(ArrayInputBackend):
    """Keras on JAX: ``fit`` compiles its train step with ``jax.jit``."""

    name = "jax"
    inference_method = "jax.jit(model.stateless_call(weights, x, training=False))"
    input_method = "NumPy arrays through Keras's array adapter, reshuffled every epoch"

    def __init__(self) -> None:
        import jax

        self.jax = jax

    def forward(self, model: Any) -> Forward:
        """The jitted inference call on the model's current weights."""

        def call(trainable: Any, non_trainable: Any, x: Any) -> Any:
            return model.stateless_call(trainable, non_trainable, x, training=False)[0]

        compiled = self.jax.jit(call)

        def forward(x: np.ndarray) -> np.ndarray:
            trainable = [v.value for v in model.trainable_variables]
            non_trainable = [v.value for v in model.non_trainable_variables]
            return np.asarray(compiled(trainable, non_trainable, x))

        return forward

    def steps_per_execution(self, requested: int) -> tuple[int, str | None]:
        """Batches per call of the compiled train step, and a note if it differs."""
        return requested, None

    def make_deterministic(self) -> None:
        """Nothing to switch: XLA's CPU kernels are deterministic (noted in the record)."""

    def versions(self) -> dict[str, str]:
        """The versions of jax and jaxlib."""
        import jaxlib

        return {"jax": self.jax.__version__, "jaxlib": jaxlib.__version__}

    def matmul_peak(self, dtype: str) -> dict[str, Any]:
        """The machine's matmul peak measured with jax."""
        from bench.measure.framework_peak import jax_matmul_peak

        return jax_matmul_peak(dtype)


class TorchBackend(ArrayInputBackend):
    """Keras on PyTorch: ``fit`` runs the train step eagerly, one batch per call."""

    name = "torch"
    inference_method = "model(x, training=False) under torch.inference_mode()"
    input_method = "NumPy arrays through Keras's array adapter (a torch DataLoader), reshuffled"

    def __init__(self) -> None:
        import torch

        self.torch = torch

    def forward(self, model: Any) -> Forward:
        """The inference call without autograd, returning NumPy probabilities."""
        import keras

        def forward(x: np.ndarray) -> np.ndarray:
            with self.torch.inference_mode():
                outputs = model(keras.ops.convert_to_tensor(x), training=False)
            return keras.ops.convert_to_numpy(outputs)

        return forward

    def steps_per_execution(self, requested: int) -> tuple[int, str | None]:
        """1, with a note when the model asked for more (Keras's torch trainer refuses more)."""
        if requested <= 1:
            return 1, None
        return 1, (
            f"steps_per_execution={requested} ran as 1 on the torch backend (Keras's torch "
            "trainer runs one batch per call); the arithmetic is the same, the dispatch is not"
        )

    def make_deterministic(self) -> None:
        """Deterministic PyTorch kernels (``torch.use_deterministic_algorithms(True)``)."""
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        self.torch.use_deterministic_algorithms(True)

    def versions(self) -> dict[str, str]:
        """The PyTorch version."""
        return {"torch": self.torch.__version__}

    def matmul_peak(self, dtype: str) -> dict[str, Any]:
        """The machine's matmul peak measured with PyTorch on Keras's device."""
        import keras

        from bench.measure.framework_peak import torch_matmul_peak

        device = str(keras.ops.convert_to_tensor(np.zeros(1, np.float32)).device)
        return torch_matmul_peak(dtype, device)


BACKENDS: dict[str, type] = {
    "tensorflow": TensorflowBackend,
    "jax": JaxBackend,
    "torch": TorchBackend,
}
KerasBackend = TensorflowBackend | JaxBackend | TorchBackend


def current_backend() -> KerasBackend:
    """The helper for the backend this process's Keras runs on."""
    import keras

    return BACKENDS[keras.backend.backend()]()


PREFETCH_BATCHES = 4


def in_memory_batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool) -> Any:
    """The arrays as in-memory TensorFlow tensors, served in batches of rows gathered by a
    shuffled index (a ``tf.data.Dataset``).

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
    from bench.core.tfquiet import import_tensorflow

    tf = import_tensorflow()
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
