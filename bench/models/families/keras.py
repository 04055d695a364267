"""The Keras family: builders return an uncompiled ``keras.Model``; the spec declares its
optimizer (and optionally its loss). The adapter lives in :mod:`._keras`, imported only when
a Keras model is built, since importing TensorFlow takes seconds.

Keras 3 runs the same model on TensorFlow, JAX or PyTorch; ``--backend`` picks which (each
backend's runs train in a process of that backend, see :mod:`bench.run.backends`)."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from bench.core.backend import KERAS_BACKENDS
from bench.models.family import AdapterClass, register_family
from bench.models.params import POSITIVE_COUNT

if TYPE_CHECKING:
    from bench.core.spec import RunSpec
    from bench.models.spec import ModelSpec

BACKEND_INSTALL = {
    "tensorflow": "pip install 'tensorflow>=2.16'",
    "jax": "pip install 'mnist-bench[jax]' (CPU wheels of jax and jaxlib)",
    "torch": "pip install 'mnist-bench[torch]' (the README says how to get the CPU-only wheel)",
}


def keras_preflight(spec: ModelSpec, run: RunSpec) -> list[str]:
    """The run's backend must be one Keras knows and be installed here (nothing imported)."""
    if run.backend not in KERAS_BACKENDS:
        return [f"unknown Keras backend {run.backend!r}; choose from {', '.join(KERAS_BACKENDS)}"]
    if importlib.util.find_spec(run.backend) is None:
        hint = BACKEND_INSTALL[run.backend]
        return [f"the Keras backend {run.backend!r} is not installed: {hint}"]
    return []


@register_family(
    "keras",
    requires=("optimizer",),
    config_rules={
        "epochs": POSITIVE_COUNT,
        "batch_size": POSITIVE_COUNT,
        "steps_per_execution": POSITIVE_COUNT,
    },
    backends=KERAS_BACKENDS,
    preflight=keras_preflight,
)
def keras_family() -> AdapterClass:
    """Keras 3 models on TensorFlow, JAX or PyTorch (--backend)."""
    from bench.models.families._keras import KerasAdapter

    return KerasAdapter
