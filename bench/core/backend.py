"""The Keras backend a process has, and the backends Keras knows.

Keras fixes its backend (``KERAS_BACKEND``) the first time it is imported, so a process serves
one backend for its whole life; :mod:`bench.run.backends` sends runs of other backends to
worker processes.
"""

from __future__ import annotations

import os
import sys

from bench.core.spec import DEFAULT_BACKEND

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
ENVIRONMENT_VARIABLE = "KERAS_BACKEND"


def process_backend() -> str:
    """The Keras backend of this process: the loaded Keras's own, else what ``KERAS_BACKEND``
    will give it (set to the default here when unset, so Keras cannot pick another from its
    configuration file later)."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return str(keras.backend.backend())
    return os.environ.setdefault(ENVIRONMENT_VARIABLE, DEFAULT_BACKEND)
