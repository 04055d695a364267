"""The Keras family: builders return an uncompiled ``keras.Model``; the spec declares its
optimizer (and optionally its loss). The adapter lives in :mod:`._keras`, imported only when
a Keras model is built, since importing TensorFlow takes seconds."""

from __future__ import annotations

from bench.models.family import AdapterClass, register_family
from bench.models.params import POSITIVE_COUNT


@register_family(
    "keras",
    requires=("optimizer",),
    config_rules={
        "epochs": POSITIVE_COUNT,
        "batch_size": POSITIVE_COUNT,
        "steps_per_execution": POSITIVE_COUNT,
    },
)
def keras_family() -> AdapterClass:
    """Keras 3 models on the TensorFlow backend."""
    from bench.models.families._keras import KerasAdapter

    return KerasAdapter
