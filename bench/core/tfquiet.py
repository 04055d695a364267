"""Import TensorFlow without its native start-up log lines.

Recent TensorFlow builds log through Abseil before its log level is read, so
``TF_CPP_MIN_LOG_LEVEL`` no longer hides lines such as "oneDNN custom operations are on" or
the failed CUDA probe on machines without a GPU. We silence the process's stderr file
descriptor while TensorFlow loads and probes its devices, then restore it. Set
``MNIST_BENCH_TF_LOGS=1`` to see those lines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

TENSORFLOW_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow"}


def quiet_tensorflow_environment() -> None:
    """Set the variables that quiet TensorFlow and pick Keras' backend, unless the user set
    them; must run before TensorFlow or Keras is imported."""
    for name, value in TENSORFLOW_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def import_tensorflow() -> ModuleType:
    """Import TensorFlow and Keras, probe devices once, and return the ``tensorflow`` module."""
    quiet_tensorflow_environment()
    if "tensorflow" in sys.modules or os.environ.get("MNIST_BENCH_TF_LOGS") == "1":
        import tensorflow as tf

        return tf
    with native_stderr_silenced():
        import keras  # noqa: F401  (imported here so its own start-up is silenced too)
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf
